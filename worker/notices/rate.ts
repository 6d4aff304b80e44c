import type { OutgoingEmail } from "../../emails/message.ts";
import type { BatchOutcome, BatchSender, RateLimiter } from "./fanout.ts";

/**
 * The part of the email port (worker/email/transport.ts `EmailTransport`) the fan-out uses, declared structurally so
 * this module also runs in Node; the worker passes its real transport and the typecheck keeps the two in step.
 */
export interface SendPort {
  send(
    messages: readonly OutgoingEmail[],
    options?: { idempotencyKey?: string },
  ): Promise<
    | { outcome: "sent"; ids: string[] }
    | { outcome: "failed"; status: number; retryable: boolean; message: string; retryAfterSeconds?: number }
    | { outcome: "unknown"; message: string }
  >;
}

// The fan-out's view of the email port (worker/email/transport.ts) and of the provider's request rate.

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
 * shifts one call by up to the margin against the next.
 */
export const RATE_WINDOW_MARGIN_MS = 25;

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
