import { type PurgeResult, purgeStale } from "../db/subscribers.ts";
import { UNCONFIRMED_RETENTION_MS } from "../env.ts";

/**
 * Deletes sign-ups that were never confirmed within 7 days of their last request (README "Subscriptions"), confirm
 * tokens past their 48-hour expiry and finished rate-limit windows.
 */
export async function purgeUnconfirmed(env: Env, now: Date): Promise<PurgeResult> {
  const cutoff = new Date(now.getTime() - UNCONFIRMED_RETENTION_MS).toISOString();
  return purgeStale(env.DB, cutoff, now.toISOString(), now.getTime());
}
