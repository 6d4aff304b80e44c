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
    async sendBatch(emails, idempotencyKey, gate): Promise<BatchOutcome> {
      const result = await transport.send(emails, gate ? { idempotencyKey, gate } : { idempotencyKey });
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
 * Resend's limit is per team and per second (plan: 2 requests/s, RESEND_MAX_RPS); the provider counts a call when it
 * arrives. The budget is a book of send slots shared by every consumer (D1's send_log in the worker): slots are
 * booked one at a time, at least `sendIntervalMs` apart, and a call leaves only inside its slot — from the slot time
 * to SLOT_LATENESS_MS after it, checked on the clock right before the call goes out (the transport's `gate`, awaited
 * once the body is serialised: worker/email/port.ts SendOptions). A consumer that wakes later
 * (a busy machine, a slow D1 answer) gives its slot up and books another; it never crowds the calls after it. So any
 * rps + 1 consecutive calls leave at least rps × interval − SLOT_LATENESS_MS = 1000 + RATE_WINDOW_MARGIN_MS −
 * SLOT_LATENESS_MS ms apart, whatever the load, and the remaining 20 ms absorb the network's jitter between a call
 * leaving and arriving. The ceiling is 1000 / 1045 = 96 % of the plan's rate (README "Benchmarks").
 */
export const RATE_WINDOW_MARGIN_MS = 45;
export const SLOT_LATENESS_MS = 25;
/** A slot is booked this far ahead of the clock: the booking's own round trip to D1 must not make it late. */
export const SLOT_LEAD_MS = 60;

export function sendIntervalMs(maxRps: number): number {
  return Math.ceil((1000 + RATE_WINDOW_MARGIN_MS) / maxRps);
}

/** Where the send slots are booked: D1's `send_log` in the worker (worker/db/send-log.ts), memory in the benchmark. */
export interface SlotBook {
  /**
   * Books the earliest slot at or after `notBeforeMs` and at least `intervalMs` after the last slot booked, in one
   * atomic step (two consumers never get the same slot); returns its time.
   */
  book(notBeforeMs: number, intervalMs: number): Promise<number>;
  /** Forgets slots older than `beforeMs`. */
  forget(beforeMs: number): Promise<void>;
}

/** One process's slot book (the benchmark in Node, unit tests). */
export function memorySlotBook(): SlotBook {
  let last = Number.NEGATIVE_INFINITY;
  return {
    async book(notBeforeMs, intervalMs) {
      last = Math.max(notBeforeMs, last + intervalMs);
      return last;
    },
    async forget() {},
  };
}

/**
 * The send budget: `acquire` resolves inside a booked slot, on time (see RATE_WINDOW_MARGIN_MS); the caller makes
 * the provider call right away, with no I/O and no heavy work in between (the transport awaits it as its `gate`, after
 * serialising the body). `late` counts the slots given up.
 */
export function slotLimiter(
  book: SlotBook,
  maxRps: number,
  clock: () => number = Date.now,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): RateLimiter & { late: () => number } {
  const interval = sendIntervalMs(maxRps);
  let booked = 0;
  let late = 0;
  return {
    late: () => late,
    async acquire() {
      for (;;) {
        const slot = await book.book(clock() + SLOT_LEAD_MS, interval);
        if (++booked % 100 === 0) await book.forget(clock() - 60_000);
        for (let wait = slot - clock(); wait > 0; wait = slot - clock()) await sleep(wait);
        if (clock() - slot <= SLOT_LATENESS_MS) return;
        late++;
      }
    },
  };
}

/** The in-memory limiter of one process (the benchmark): the same slots, booked in memory. */
export function memoryRateLimiter(maxRps: number, clock: () => number = () => performance.now()): RateLimiter {
  return slotLimiter(memorySlotBook(), maxRps, clock);
}
