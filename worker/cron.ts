import { alertNotNotifiedCustomers } from "./evidence/publication-evidence.ts";
import { runPublish } from "./notices/publish-check.ts";
import { purgeUnconfirmed } from "./subscriptions/purge.ts";
import { reconcileWebhooks, webhookRecoveryDeps } from "./webhooks/recovery.ts";

/**
 * Every task the cron trigger runs (wrangler.toml `crons`, every 15 minutes), in this one list. Each task is
 * independent.
 */
export function scheduledTasks(env: Env, now: Date): [string, () => Promise<unknown>][] {
  return [
    ["purge unconfirmed sign-ups", () => purgeUnconfirmed(env, now)],
    // The same publish check as POST /api/admin/publish (docs/architecture.md "Arrows"): a no-op when nothing
    // changed; it also queues again what a stopped fan-out left behind (notices/recovery.ts).
    ["publish check", () => runPublish(env, env.PUBLIC_BASE_URL, now)],
    // Webhook deliveries whose queue message was lost are queued again (webhooks/recovery.ts).
    ["webhook deliveries", () => reconcileWebhooks(webhookRecoveryDeps(env, now))],
    // DPA 5.2: a customer no notice reached is alerted to the vendor once its fan-out is complete (README "Objections
    // and evidence"), without waiting for a look at the evidence.
    ["not-notified alert", () => alertNotNotifiedCustomers(env, now)],
  ];
}

/**
 * Runs every scheduled task in order. A failure is logged and never stops the next task; each task runs again at the
 * next tick, so nothing is rethrown (a rejected waitUntil would only log the same error once more).
 */
export async function runScheduled(env: Env, now: Date): Promise<void> {
  for (const [name, task] of scheduledTasks(env, now)) {
    try {
      await task();
    } catch (err) {
      console.error(`scheduled task failed: ${name}`, err);
    }
  }
}
