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
 * arrives. The budget is a book of send slots shared by every consumer (D1's send_log in the worker), booked one at a
 * time, atomically, each:
 * - at least `sendIntervalMs` after the slot before it (calls spread evenly, no bursts), and
 * - at least SEND_WINDOW_MS after the moment the call rps slots back left — recorded once it was handed over (the
 *   transport calls what `acquire` resolved with, worker/email/port.ts Departed), or, until that record is there,
 *   its slot time plus SLOT_LATENESS_MS, the latest it may be handed over.
 * A call leaves only inside its slot — from the slot time to SLOT_LATENESS_MS after it, checked on the clock right
 * before the call goes out (the transport's `gate`, awaited once the body is serialised: worker/email/port.ts
 * SendOptions); a consumer that wakes later (a busy machine, a garbage collection) gives the slot back and books
 * another. So any rps + 1 consecutive calls leave at least SEND_WINDOW_MS apart, whatever the load (the latest of
 * rps + 1 calls was booked after the departure of one rps slots before it, and an earlier one cannot leave after
 * that one: SLOT_LATENESS_MS is shorter than the interval), and ARRIVAL_JITTER_MS absorbs what lies between the
 * departure recorded and the arrival the provider counts (the benchmark measures the tightest rps + 1 arrivals at the
 * provider: README "Benchmarks"). A call that leaves late therefore costs the calls after it only its lateness, not a
 * whole slot. The ceiling is 1000 / 1020 = 98 % of the plan's rate; every call a fault repeats costs a slot on top.
 * The jitter allowed is what was measured, with room. On the benchmark (workerd, the fake provider in its own
 * process), with the departure read before `fetch`, calls arrived 3 to 36 ms after it, the tightest rps + 1 arrivals
 * came up to 21 ms closer together than their departures, and 40 ms had to be allowed (with 20 ms, two runs in four
 * had a call over the limit): the thread that had just handed the 1.5 MB body over was sometimes held up to 27 ms
 * before writing it. Read on the next turn, as now, the departure is −12 to +11 ms from the arrival, and the tightest
 * rps + 1 arrivals came at most 11.4 ms closer together than their departures (three runs), and with 20 ms allowed
 * the tightest windows of fourteen runs were 1,010–1,023 ms.
 */
export const ARRIVAL_JITTER_MS = 20;
export const SEND_WINDOW_MS = 1000 + ARRIVAL_JITTER_MS;
export const SLOT_LATENESS_MS = 15;
/**
 * A slot is booked ahead of the clock, so that the booking's own round trip to D1 does not make it late: twice the
 * slowest of the last BOOKINGS_SEEN bookings, at most SLOT_LEAD_MS. It only matters when no call is waiting (the slot
 * is then the clock plus the lead): at the start of a fan-out and of each queue batch, where a fixed 60 ms was idle
 * time for a booking that takes 2–5 ms on the local engine (README "Benchmarks").
 */
export const SLOT_LEAD_MS = 60;
const BOOKINGS_SEEN = 10;

/** The lead for the next booking, from the round trips of the last ones (see SLOT_LEAD_MS). */
export function slotLead(roundTripsMs: readonly number[]): number {
  if (roundTripsMs.length === 0) return SLOT_LEAD_MS;
  return Math.min(SLOT_LEAD_MS, 2 * Math.max(...roundTripsMs));
}

export function sendIntervalMs(maxRps: number): number {
  return Math.ceil(SEND_WINDOW_MS / maxRps);
}

/** What a booking must respect (see above). */
export interface SlotRule {
  intervalMs: number;
  /** rps: the booking must come SEND_WINDOW_MS after the departure of the slot this many back. */
  calls: number;
  windowMs: number;
  latenessMs: number;
}

export function slotRule(maxRps: number): SlotRule {
  return {
    intervalMs: sendIntervalMs(maxRps),
    calls: Math.max(1, Math.floor(maxRps)),
    windowMs: SEND_WINDOW_MS,
    // Shorter than the interval at any rate, or a late call could leave after the next one (see above).
    latenessMs: Math.min(SLOT_LATENESS_MS, sendIntervalMs(maxRps) - 1),
  };
}

/** Where the send slots are booked: D1's `send_log` in the worker (worker/db/send-log.ts), memory in the benchmark. */
export interface SlotBook {
  /** Books the earliest slot at or after `notBeforeMs` that `rule` allows, in one atomic step; returns its time. */
  book(notBeforeMs: number, rule: SlotRule): Promise<number>;
  /** The call of the slot at `slotMs` left at `atMs`. */
  departed(slotMs: number, atMs: number): Promise<void>;
  /** The slot at `slotMs` was given up: no call left in it. */
  release(slotMs: number): Promise<void>;
  /** Forgets slots older than `beforeMs`. */
  forget(beforeMs: number): Promise<void>;
}

/** One process's slot book (the benchmark in Node, unit tests). */
export function memorySlotBook(): SlotBook {
  // Ascending by time, as booked.
  const slots: { at: number; departed?: number }[] = [];
  const find = (at: number) => slots.findLastIndex((s) => s.at === at);
  return {
    async book(notBeforeMs, rule) {
      const last = slots.at(-1);
      const back = slots.length >= rule.calls ? slots[slots.length - rule.calls] : undefined;
      const at = Math.max(
        notBeforeMs,
        last ? last.at + rule.intervalMs : notBeforeMs,
        back ? (back.departed ?? back.at + rule.latenessMs) + rule.windowMs : notBeforeMs,
      );
      slots.push({ at });
      return at;
    },
    async departed(slotMs, atMs) {
      const slot = slots[find(slotMs)];
      if (slot) slot.departed = atMs;
    },
    async release(slotMs) {
      const i = find(slotMs);
      if (i >= 0) slots.splice(i, 1);
    },
    async forget(beforeMs) {
      while ((slots[0]?.at ?? beforeMs) < beforeMs) slots.shift();
    },
  };
}

/**
 * The send budget: `acquire` resolves inside a booked slot, on time (see SEND_WINDOW_MS); the caller makes the
 * provider call right away, with no I/O and no heavy work in between (the transport awaits it as its `gate`, after
 * serialising the body), and calls what it resolved with once the call is handed over, which records the departure
 * (not awaited: the call must not wait for D1). `late` counts the slots given up. `bookings` holds the round trips
 * of the last bookings (SLOT_LEAD_MS); the worker keeps one for the isolate, so each queue batch starts with the
 * lead measured before.
 */
export function slotLimiter(
  book: SlotBook,
  maxRps: number,
  {
    clock = Date.now,
    sleep = (ms) => new Promise((r) => setTimeout(r, ms)),
    bookings = [],
  }: { clock?: () => number; sleep?: (ms: number) => Promise<void>; bookings?: number[] } = {},
): RateLimiter & { late: () => number } {
  const rule = slotRule(maxRps);
  let booked = 0;
  let late = 0;
  // A record that failed only leaves the slot counted as leaving at its latest (see SlotBook.book): never unsafe.
  const ignore = () => {};
  return {
    late: () => late,
    async acquire() {
      for (;;) {
        const asked = clock();
        const slot = await book.book(asked + slotLead(bookings), rule);
        bookings.push(clock() - asked);
        if (bookings.length > BOOKINGS_SEEN) bookings.shift();
        if (++booked % 100 === 0) await book.forget(clock() - 60_000);
        for (let wait = slot - clock(); wait > 0; wait = slot - clock()) await sleep(wait);
        const now = clock();
        if (now - slot <= rule.latenessMs) {
          return () => {
            book.departed(slot, clock()).catch(ignore);
          };
        }
        late++;
        book.release(slot).catch(ignore);
      }
    },
  };
}

/** The in-memory limiter of one process (the benchmark): the same slots, booked in memory. */
export function memoryRateLimiter(maxRps: number, clock: () => number = () => performance.now()): RateLimiter {
  return slotLimiter(memorySlotBook(), maxRps, { clock });
}
