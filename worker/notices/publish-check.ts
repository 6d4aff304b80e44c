import { deployedDocument, type PublishResult, publish } from "./publish.ts";
import { type RecoveryResult, reconcileFanouts, recoveryDeps } from "./recovery.ts";

/**
 * The publish check for both callers (POST /api/admin/publish and the cron, worker/cron.ts): record and queue a new
 * publication, then queue again what a stopped fan-out left behind (notices/recovery.ts) — also when the publish step
 * failed. A no-op when nothing changed.
 */
export async function runPublish(
  env: Env,
  origin: string,
  now: Date,
): Promise<PublishResult & { recovery: RecoveryResult }> {
  let result: PublishResult;
  try {
    result = await publish({
      db: env.DB,
      queue: env.NOTICE_QUEUE,
      webhooks: { queue: env.WEBHOOK_QUEUE, baseUrl: env.PUBLIC_BASE_URL },
      document: () => deployedDocument(env, origin),
      now,
    });
  } catch (err) {
    await reconcileFanouts(recoveryDeps(env, now)).catch((e: unknown) => console.error("fan-out recovery failed", e));
    throw err;
  }
  return { ...result, recovery: await reconcileFanouts(recoveryDeps(env, now)) };
}
