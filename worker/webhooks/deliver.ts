import { checkWebhookUrl } from "../../domain/webhook-url.ts";
import {
  type AttemptVerdict,
  endWebhookDelivery,
  leaseWebhookDelivery,
  recordWebhookAttempt,
  type WebhookDeliveryRow,
  type WebhookKey,
  webhookDelivery,
} from "../db/webhook-deliveries.ts";
import { openSecret, type SealingEnv } from "./secret.ts";
import { sendSigned, type WebhookAttempt } from "./send.ts";

// One webhook delivery (README "Webhooks"): the consumer of WEBHOOK_QUEUE runs this once per message. Exactly once
// per (publication, endpoint) on our side, under at-least-once queue delivery and consumers that die at any step:
// 1. the ledger row is the only truth; a message only says "look at this row", so a copy of a message, a re-delivery
//    or a message the reconciler queued again finds the row delivered or failed and does nothing;
// 2. an attempt starts by taking the row's lease (status sending, one consumer, WEBHOOK_LEASE_MS), so two consumers
//    never send one delivery at once; a consumer that dies mid-send leaves the lease to run out, and the next one
//    sends again under the same webhook-id, which the receiver de-duplicates (Standard Webhooks);
// 3. the attempt, its verdict and the endpoint's failure count are written in one transaction, and only while the
//    lease is still held;
// 4. retries follow the row's next_attempt_at, never the message's own count: 30 s, 1, 2, 4 … minutes, at most an
//    hour apart (or what Retry-After asked), for 24 hours after the first attempt; then the delivery fails.
// Proved by tests/worker/webhooks-delivery.test.ts.

/** First retry after 30 s, doubling. */
export const WEBHOOK_FIRST_RETRY_SECONDS = 30;
/** At most an hour between two attempts: a receiver back after an outage hears within the hour. */
export const WEBHOOK_MAX_RETRY_SECONDS = 3600;
/** Retries go on for 24 hours after the first attempt (README "Webhooks"). */
export const WEBHOOK_RETRY_WINDOW_MS = 24 * 60 * 60_000;
/** Cloudflare Queues: `retry({delaySeconds})` and `send({delaySeconds})` take at most 12 hours (43,200 s). */
export const QUEUE_MAX_DELAY_SECONDS = 43_200;
/**
 * How long one consumer holds a delivery: the 10 s timeout of one attempt, opening the secrets and the D1 writes,
 * with room to spare. A consumer that died holds the retry back this long.
 */
export const WEBHOOK_LEASE_MS = 60_000;
/** An endpoint whose every attempt failed for this many publications in a row is disabled and its owner emailed. */
export const DISABLE_AFTER_FAILED_PUBLICATIONS = 3;

/** The wait before the attempt after attempt number `attempts` (1-based): 30 s, 60 s, 120 s … at most an hour. */
export function webhookBackoffSeconds(attempts: number): number {
  return Math.min(
    WEBHOOK_MAX_RETRY_SECONDS,
    WEBHOOK_FIRST_RETRY_SECONDS * 2 ** Math.max(0, Math.min(attempts - 1, 16)),
  );
}

export interface WebhookDeliveryDeps {
  db: D1Database;
  secretKey: SealingEnv;
  /** The ledger's clock. The signature's timestamp is always the wall clock of the request leaving. */
  now(): Date;
  allowLocalHttp: boolean;
  timeoutMs: number;
  fetcher?: typeof fetch;
  leaseMs?: number;
  /** Tells the owner that the endpoint was disabled (after it was, in the ledger). */
  endpointDisabled(endpointId: string, publications: number): Promise<void>;
}

export type WebhookResult =
  | { action: "ack"; status: "delivered" | "failed" | "ended" | "gone" }
  | { action: "retry"; delaySeconds: number; reason: string };

const retryIn = (ms: number, reason: string): WebhookResult => ({
  action: "retry",
  delaySeconds: Math.min(QUEUE_MAX_DELAY_SECONDS, Math.max(1, Math.ceil(ms / 1000))),
  reason,
});

/** The endpoint's valid secrets, newest first: the previous one signs too until its 24 h after a rotation end. */
async function secretsOf(deps: WebhookDeliveryDeps, row: WebhookDeliveryRow, now: Date): Promise<string[]> {
  const endpoint = row.endpoint;
  if (!endpoint) return [];
  const secrets = [await openSecret(deps.secretKey, row.endpointId, endpoint.secretSealed)];
  if (
    endpoint.previousSecretSealed &&
    endpoint.previousSecretUntil &&
    Date.parse(endpoint.previousSecretUntil) > now.getTime()
  ) {
    secrets.push(await openSecret(deps.secretKey, row.endpointId, endpoint.previousSecretSealed));
  }
  return secrets;
}

/** What an attempt means: delivered, another try at a time inside the 24 hours, or failed for good. */
export function verdictOf(
  attempt: WebhookAttempt,
  attempts: number,
  firstAttemptAt: string,
  now: Date,
): AttemptVerdict {
  if (attempt.outcome === "delivered") return { status: "delivered" };
  const what = attempt.httpStatus !== null ? `HTTP ${attempt.httpStatus}` : (attempt.error ?? "no answer");
  if (attempt.outcome === "final") return { status: "failed", detail: `refused for good: ${what}` };
  const wait =
    attempt.retryAfterSeconds !== null ? Math.max(1, attempt.retryAfterSeconds) : webhookBackoffSeconds(attempts);
  const next = now.getTime() + wait * 1000;
  if (next > Date.parse(firstAttemptAt) + WEBHOOK_RETRY_WINDOW_MS) {
    return { status: "failed", detail: `gave up 24 h after the first attempt (${attempts} attempts), last: ${what}` };
  }
  return { status: "pending", nextAttemptAt: new Date(next).toISOString(), detail: `attempt ${attempts}: ${what}` };
}

/** Processes one delivery. Never throws for what the endpoint does; a storage failure throws (the message is retried). */
export async function deliverWebhook(deps: WebhookDeliveryDeps, key: WebhookKey): Promise<WebhookResult> {
  const { db } = deps;
  const leaseMs = deps.leaseMs ?? WEBHOOK_LEASE_MS;
  const row = await webhookDelivery(db, key);
  if (!row) return { action: "ack", status: "gone" };
  if (row.status === "delivered" || row.status === "failed") return { action: "ack", status: "ended" };
  const now = deps.now();
  const nowIso = now.toISOString();
  const nowMs = now.getTime();
  if (row.status === "sending" && row.leaseUntilMs !== null && row.leaseUntilMs > nowMs) {
    return retryIn(row.leaseUntilMs - nowMs, "another consumer is attempting this delivery");
  }
  if (row.firstAttemptAt && nowMs >= Date.parse(row.firstAttemptAt) + WEBHOOK_RETRY_WINDOW_MS) {
    const ended = await endWebhookDelivery(
      db,
      key,
      `gave up 24 h after the first attempt (${row.attempts} attempts)`,
      nowIso,
      nowMs,
      DISABLE_AFTER_FAILED_PUBLICATIONS,
    );
    if (ended.failedPublications === DISABLE_AFTER_FAILED_PUBLICATIONS) {
      await deps.endpointDisabled(row.endpointId, DISABLE_AFTER_FAILED_PUBLICATIONS);
    }
    return { action: "ack", status: "failed" };
  }
  if (row.status === "pending" && row.nextAttemptAt && Date.parse(row.nextAttemptAt) > nowMs) {
    return retryIn(Date.parse(row.nextAttemptAt) - nowMs, "not due yet");
  }
  // Checked at send time, not plan time: an endpoint removed or disabled, or whose owner unsubscribed, mid-fan-out
  // gets nothing more (the rule of the notice emails, docs/architecture.md "Notices").
  if (row.endpoint?.status !== "active" || row.endpoint.subscriberStatus !== "confirmed") {
    const why = !row.endpoint
      ? "endpoint removed"
      : row.endpoint.status !== "active"
        ? `endpoint ${row.endpoint.status}`
        : `subscription ${row.endpoint.subscriberStatus ?? "erased"}`;
    await endWebhookDelivery(db, key, `not sent: ${why}`, nowIso, nowMs);
    return { action: "ack", status: "failed" };
  }

  const owner = crypto.randomUUID();
  if (!(await leaseWebhookDelivery(db, key, owner, nowIso, nowMs, nowMs + leaseMs))) {
    return retryIn(leaseMs, "another consumer took this delivery");
  }
  const attempts = row.attempts + 1;
  const firstAttemptAt = row.firstAttemptAt ?? nowIso;
  // The SSRF guard again at every send: the rules may have tightened since registration.
  const guard = checkWebhookUrl(row.url, { allowLocalHttp: deps.allowLocalHttp });
  const attempt: WebhookAttempt = guard.ok
    ? await sendSigned({
        url: guard.url.href,
        secrets: await secretsOf(deps, row, now),
        messageId: row.messageId,
        payload: row.payload,
        now: new Date(),
        timeoutMs: deps.timeoutMs,
        ...(deps.fetcher ? { fetcher: deps.fetcher } : {}),
      })
    : {
        outcome: "final",
        httpStatus: null,
        latencyMs: 0,
        responseExcerpt: null,
        error: `refused by the URL guard (${guard.rule}): ${guard.detail}`,
        retryAfterSeconds: null,
      };
  const after = deps.now();
  const verdict = verdictOf(attempt, attempts, firstAttemptAt, after);
  const recorded = await recordWebhookAttempt(
    db,
    row,
    owner,
    attempt,
    verdict,
    after.toISOString(),
    DISABLE_AFTER_FAILED_PUBLICATIONS,
  );
  if (recorded.failedPublications === DISABLE_AFTER_FAILED_PUBLICATIONS) {
    await deps.endpointDisabled(row.endpointId, DISABLE_AFTER_FAILED_PUBLICATIONS);
  }
  if (!recorded.applied) return retryIn(leaseMs, "the lease ran out during the attempt");
  if (verdict.status === "pending") {
    return retryIn(Date.parse(verdict.nextAttemptAt) - after.getTime(), verdict.detail);
  }
  return { action: "ack", status: verdict.status };
}
