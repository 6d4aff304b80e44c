import type { EmailTransport } from "../../email/port.ts";
import type { BatchOutcome, BatchSender, RateLimiter } from "./fanout.ts";

// The fan-out's view of the email port (worker/email/port.ts) and of the provider's request rate.

/** The part of the email port the fan-out uses: the worker's transport, or the Resend adapter in the benchmark. */
export type SendPort = Pick<EmailTransport, "send">;

/** Used when a 429 comes without a usable `retry-after`: Resend's limit is per second. */
const DEFAULT_RETRY_AFTER_SECONDS = 1;

/**
 * Maps the transport's outcome to what the send loop does next. A 429 sent nothing (wait for the hint); a 5xx, a
 * network failure or a lost answer may have been sent (retry with the same key); a 409 for a key still in progress
 * is not known yet either; any other 4xx cannot succeed with the same payload.
 */
export function transportSender(transport: SendPort): BatchSender {
  return {
    async sendBatch(emails, idempotencyKey): Promise<BatchOutcome> {
      const result = await transport.send(emails, { idempotencyKey });
      if (result.outcome === "sent") return { kind: "accepted", messageIds: result.ids };
      if (result.outcome === "unknown") return { kind: "unknown", detail: result.message };
      if (result.status === 429) {
        return {
          kind: "rate-limited",
          retryAfterSeconds:
            result.retryAfterSeconds && result.retryAfterSeconds > 0
              ? result.retryAfterSeconds
              : DEFAULT_RETRY_AFTER_SECONDS,
          detail: `429 ${result.message}`,
        };
      }
      if (result.status === 409 && /concurrent/i.test(result.message)) {
        return { kind: "unknown", detail: `409 ${result.message}`, retryAfterSeconds: 1 };
      }
      if (result.status === 409) return { kind: "key-conflict", detail: `409 ${result.message}` };
      if (result.retryable || result.status >= 500)
        return { kind: "unknown", detail: `${result.status} ${result.message}` };
      return { kind: "rejected", status: result.status, detail: `${result.status} ${result.message}` };
    },
  };
}

/**
 * Resend's limit is per team and per second (plan: 2 requests/s, RESEND_MAX_RPS). Calls are spaced
 * (1000 + margin) / rps ms apart, so any rps + 1 consecutive calls span more than a second even when the network
 * shifts one call by up to the margin against the next. 25 ms proved too little on a loaded 2-core machine (one or
 * two calls over the limit at the provider's arrival clock, tests/worker/notices-faults.test.ts); 50 ms keeps the
 * ceiling at 1000 / 1050 = 95 % of the plan's rate.
 */
export const RATE_WINDOW_MARGIN_MS = 50;

export function sendIntervalMs(maxRps: number): number {
  return Math.ceil((1000 + RATE_WINDOW_MARGIN_MS) / maxRps);
}

/**
 * One process's limiter (the benchmark). Safety comes from the moments calls actually leave: any `maxRps` + 1
 * consecutive calls span at least 1000 + RATE_WINDOW_MARGIN_MS, even when a busy event loop wakes a waiter late.
 * Smoothness comes from planned slots `interval` apart; a late call may be caught up by up to half an interval, so
 * lateness is not lost for good. The worker uses the D1 limiter shared by all isolates.
 */
export function memoryRateLimiter(maxRps: number, clock: () => number = () => performance.now()): RateLimiter {
  const interval = sendIntervalMs(maxRps);
  const recent: number[] = [];
  let planned = Number.NEGATIVE_INFINITY;
  return {
    async acquire() {
      for (;;) {
        const now = clock();
        const last = recent.at(-1) ?? Number.NEGATIVE_INFINITY;
        const window =
          recent.length >= maxRps ? (recent[recent.length - maxRps] ?? 0) + 1000 + RATE_WINDOW_MARGIN_MS : 0;
        const readyAt = Math.max(planned + interval, last + interval / 2, window);
        if (now >= readyAt) {
          planned = Math.max(planned + interval, now - interval);
          recent.push(now);
          if (recent.length > maxRps) recent.shift();
          return;
        }
        await new Promise((r) => setTimeout(r, readyAt - now));
      }
    },
  };
}

/** Where the shared limiter records departures: D1's `send_log` in the worker (worker/db/send-log.ts). */
export interface SendLog {
  /** Records a call leaving at `nowMs` when fewer than `maxCalls` left within `windowMs` and none within `gapMs`. */
  admit(at: { nowMs: number; windowMs: number; maxCalls: number; gapMs: number }): Promise<boolean>;
  /** The departure whose leaving the window frees the next place, and the last departure (null when none). */
  busy(at: { nowMs: number; windowMs: number; maxCalls: number }): Promise<{
    oldestInWindowMs: number | null;
    lastMs: number | null;
  }>;
  /** Forgets departures older than `beforeMs`. */
  forget(beforeMs: number): Promise<void>;
}

/**
 * The limiter of the worker: one RESEND_MAX_RPS budget shared by every isolate through a SendLog. A call goes when,
 * counting the moment it leaves, no more than `maxRps` calls left within the last 1000 + RATE_WINDOW_MARGIN_MS, and
 * the previous call left at least half an interval ago (no bursts). Judging on recorded departures (not pre-planned
 * slots) means a consumer woken late cannot crowd the calls after it.
 */
export function sharedRateLimiter(log: SendLog, maxRps: number, clock: () => number = Date.now): RateLimiter {
  const windowMs = 1000 + RATE_WINDOW_MARGIN_MS;
  const gapMs = Math.floor(sendIntervalMs(maxRps) / 2);
  let calls = 0;
  return {
    async acquire() {
      for (;;) {
        const nowMs = clock();
        if (await log.admit({ nowMs, windowMs, maxCalls: maxRps, gapMs })) {
          if (++calls % 100 === 0) await log.forget(nowMs - 60_000);
          return;
        }
        // When does the next place open? The oldest call in the window leaves it, or the gap after the last ends.
        const busy = await log.busy({ nowMs, windowMs, maxCalls: maxRps });
        const readyAt = Math.max((busy.oldestInWindowMs ?? 0) + windowMs, (busy.lastMs ?? 0) + gapMs);
        await new Promise((r) => setTimeout(r, Math.max(1, readyAt - clock() + 1)));
      }
    },
  };
}
