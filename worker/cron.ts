import { type PurgeResult, purgeStale } from "./db/subscribers.ts";
import { UNCONFIRMED_RETENTION_MS } from "./env.ts";

/**
 * Deletes sign-ups that were never confirmed within 7 days of their last request (DESIGN, API), confirm
 * tokens past their 48-hour expiry and finished rate-limit windows.
 */
export async function purgeUnconfirmed(env: Env, now: Date): Promise<PurgeResult> {
  const cutoff = new Date(now.getTime() - UNCONFIRMED_RETENTION_MS).toISOString();
  return purgeStale(env.DB, cutoff, now.toISOString(), now.getTime());
}

/** Everything the cron trigger runs, in order. Each task is independent: one failing does not stop the next. */
export async function runScheduled(env: Env, now: Date): Promise<void> {
  const tasks: [string, () => Promise<unknown>][] = [["purge unconfirmed sign-ups", () => purgeUnconfirmed(env, now)]];
  const failures: unknown[] = [];
  for (const [name, task] of tasks) {
    try {
      await task();
    } catch (err) {
      console.error(`scheduled task failed: ${name}`, err);
      failures.push(err);
    }
  }
  if (failures.length > 0) throw new AggregateError(failures, "scheduled tasks failed");
}
