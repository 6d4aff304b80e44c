import { strandedWebhookDeliveries, unplannedPublications } from "../db/webhook-deliveries.ts";
import { loadNotice } from "../notices/publish.ts";
import { WEBHOOK_RETRY_WINDOW_MS } from "./deliver.ts";
import { enqueueWebhooks, planWebhooks, type WebhookMessage } from "./plan.ts";

// The reconciler of webhook deliveries, run by the cron (worker/cron.ts). A delivery's queue message is lost when it
// is dropped before it is acknowledged (the local queue keeps messages in memory; in production a message whose
// consumer invocation dies on every delivery is dropped after max_retries). The ledger row stays open, so the
// reconciler queues it again once it is overdue by the grace period: pending and due, or sending under a lease that
// ran out (a consumer died mid-send). A copy of a message that was not lost after all is harmless: the consumer's
// lease lets one attempt at a time, and a row that ended is acked untouched (worker/webhooks/deliver.ts).
// It also plans the webhooks of a publication whose publish run stopped between recording it and planning them.

/**
 * A due delivery is attempted within seconds while its message lives (a retry's delay ends at its next_attempt_at),
 * a backlog of 1,000 endpoints drains in under a minute (README "Benchmarks"): one overdue by 15 minutes was lost.
 */
export const WEBHOOK_RECOVERY_GRACE_MS = 15 * 60_000;

/** Deliveries looked at per run; the next tick takes the rest. */
export const WEBHOOK_RECOVERY_PER_RUN = 1000;

export interface WebhookRecoveryDeps {
  db: D1Database;
  queue: Pick<Queue<WebhookMessage>, "sendBatch">;
  baseUrl: string;
  now: Date;
  graceMs?: number;
}

export async function reconcileWebhooks(deps: WebhookRecoveryDeps): Promise<{ planned: number[]; requeued: number }> {
  const { db, now } = deps;
  const graceMs = deps.graceMs ?? WEBHOOK_RECOVERY_GRACE_MS;
  // Only recent publications: an event older than the retry window would arrive too late to act on.
  const since = new Date(now.getTime() - WEBHOOK_RETRY_WINDOW_MS).toISOString();
  const planned: number[] = [];
  for (const sequence of await unplannedPublications(db, since)) {
    await planWebhooks(deps, await loadNotice(db, sequence));
    planned.push(sequence);
  }
  const stranded = await strandedWebhookDeliveries(
    db,
    new Date(now.getTime() - graceMs).toISOString(),
    now.getTime() - graceMs,
    WEBHOOK_RECOVERY_PER_RUN,
  );
  return { planned, requeued: await enqueueWebhooks(deps.queue, stranded) };
}

export function webhookRecoveryDeps(env: Env, now: Date): WebhookRecoveryDeps {
  return { db: env.DB, queue: env.WEBHOOK_QUEUE, baseUrl: env.PUBLIC_BASE_URL, now };
}
