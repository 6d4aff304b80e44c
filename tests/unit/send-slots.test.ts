import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  memorySlotBook,
  SEND_WINDOW_MS,
  SLOT_LATENESS_MS,
  SLOT_LEAD_MS,
  type SlotBook,
  sendIntervalMs,
  slotLead,
  slotLimiter,
  slotRule,
} from "../../worker/notices/engine/rate.ts";

// The send budget (worker/notices/engine/rate.ts): calls leave only inside booked slots, so the provider's per-second
// limit holds at the moment calls leave, however late the consumers wake. Virtual time stands in for the clock: a
// sleeper wakes at its time plus a scripted delay (a busy machine), earliest first, and time jumps to it once every
// caller waits; no assertion depends on real timing.

function virtualTime(delays: () => number) {
  let now = 1_000_000;
  const sleepers: { wake: number; resolve: () => void }[] = [];
  return {
    clock: () => now,
    sleep: (ms: number) =>
      new Promise<void>((resolve) => {
        sleepers.push({ wake: now + ms + delays(), resolve });
      }),
    /** Runs `work` to its end, moving time to the next wake-up whenever every caller is asleep. */
    async run(work: Promise<unknown>) {
      let done = false;
      void work.finally(() => {
        done = true;
      });
      while (!done) {
        await new Promise((r) => setImmediate(r));
        sleepers.sort((a, b) => a.wake - b.wake);
        const next = sleepers.shift();
        if (!next) continue;
        now = Math.max(now, next.wake);
        next.resolve();
      }
      await work;
    },
  };
}

describe("send slots", () => {
  it("any rps + 1 consecutive calls leave at least the window apart, however late the callers wake", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.integer({ min: 0, max: 120 }), { minLength: 1, maxLength: 50 }),
        async (rps, callers, lateness) => {
          // Every other wake-up is on time: a caller late on every wake would never send (and never break the limit).
          let i = 0;
          const time = virtualTime(() => (i++ % 2 === 0 ? (lateness[(i >> 1) % lateness.length] ?? 0) : 0));
          const limiter = slotLimiter(memorySlotBook(), rps, { clock: time.clock, sleep: time.sleep });
          const departures: number[] = [];
          await time.run(
            Promise.all(
              Array.from({ length: callers }, async () => {
                for (let k = 0; k < 6; k++) {
                  (await limiter.acquire())();
                  departures.push(time.clock());
                }
              }),
            ),
          );
          departures.sort((a, b) => a - b);
          expect(departures).toHaveLength(callers * 6);
          for (let k = 0; k + rps < departures.length; k++) {
            const span = (departures[k + rps] ?? 0) - (departures[k] ?? 0);
            expect(span).toBeGreaterThanOrEqual(SEND_WINDOW_MS);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it("a caller that wakes too late gives its slot up and books another instead of crowding the next call", async () => {
    let wakes = 0;
    // The first wake-up comes 200 ms late; later ones on time.
    const time = virtualTime(() => (wakes++ === 0 ? 200 : 0));
    const book = memorySlotBook();
    const limiter = slotLimiter(book, 10, { clock: time.clock, sleep: time.sleep });
    await time.run(limiter.acquire());
    expect(limiter.late()).toBe(1);
    // The next slot any caller can book is an interval after the one this caller used, not after the one it gave up.
    const used = time.clock();
    expect(await book.book(0, slotRule(10))).toBe(used + sendIntervalMs(10));
  });

  it("a call that leaves late delays the call rps slots later by its lateness, not by a slot", async () => {
    const lateBy = 12;
    expect(lateBy).toBeLessThanOrEqual(SLOT_LATENESS_MS);
    const elevenths: number[] = [];
    for (const firstLate of [0, lateBy]) {
      let wakes = 0;
      const time = virtualTime(() => (wakes++ === 0 ? firstLate : 0));
      const limiter = slotLimiter(memorySlotBook(), 10, { clock: time.clock, sleep: time.sleep });
      const departures: number[] = [];
      await time.run(
        (async () => {
          for (let k = 0; k < 11; k++) {
            (await limiter.acquire())();
            departures.push(time.clock());
          }
        })(),
      );
      expect(limiter.late()).toBe(0);
      elevenths.push((departures[10] ?? 0) - (departures[0] ?? 0) + (firstLate === 0 ? 0 : lateBy));
      // The calls in between keep their slots.
      expect((departures[1] ?? 0) - (departures[0] ?? 0)).toBe(sendIntervalMs(10) - firstLate);
    }
    // Measured from the first call's slot, the eleventh leaves `lateBy` later when the first left that late.
    expect((elevenths[1] ?? 0) - (elevenths[0] ?? 0)).toBe(lateBy - (10 * sendIntervalMs(10) - SEND_WINDOW_MS));
  });

  it("counts the next calls from the departure recorded once the call was handed over, not from the slot", async () => {
    // A thread blocked for 25 ms between handing a call over and getting back to its event loop, where the request
    // is written: the call rps slots later leaves that much later, and the calls in between keep their slots.
    const blocked = 25;
    const elevenths: number[] = [];
    for (const block of [0, blocked]) {
      const time = virtualTime(() => 0);
      let now = 0;
      const clock = () => time.clock() + now;
      const limiter = slotLimiter(memorySlotBook(), 10, { clock, sleep: time.sleep });
      const departures: number[] = [];
      await time.run(
        (async () => {
          for (let k = 0; k < 11; k++) {
            const departed = await limiter.acquire();
            departures.push(clock());
            if (k === 0) now += block;
            departed();
          }
        })(),
      );
      expect(limiter.late()).toBe(0);
      elevenths.push((departures[10] ?? 0) - (departures[0] ?? 0));
      expect((departures[1] ?? 0) - (departures[0] ?? 0)).toBe(sendIntervalMs(10));
    }
    expect((elevenths[1] ?? 0) - (elevenths[0] ?? 0)).toBe(blocked - (10 * sendIntervalMs(10) - SEND_WINDOW_MS));
  });

  it("books a slot for an idle budget twice the slowest recent booking ahead, measured across limiters", async () => {
    const time = virtualTime(() => 0);
    const memory = memorySlotBook();
    // Each booking takes 4 ms of round trip.
    const book: SlotBook = {
      ...memory,
      book: async (notBeforeMs, rule) => {
        await time.sleep(4);
        return memory.book(notBeforeMs, rule);
      },
    };
    const bookings: number[] = [];
    const waits: number[] = [];
    for (let batch = 0; batch < 2; batch++) {
      // A queue batch: its own limiter, the isolate's bookings; the budget idle for a minute before it.
      await time.run(time.sleep(60_000));
      const limiter = slotLimiter(book, 10, { clock: time.clock, sleep: time.sleep, bookings });
      const asked = time.clock();
      await time.run(limiter.acquire());
      waits.push(time.clock() - asked);
    }
    // Nothing measured yet: the full lead. Then twice the 4 ms measured.
    expect(waits).toEqual([SLOT_LEAD_MS, 8]);
    expect(slotLead([])).toBe(SLOT_LEAD_MS);
    expect(slotLead([3, 900, 2])).toBe(SLOT_LEAD_MS);
  });

  it("leaves room for the network, and a late call can never leave after the next one", () => {
    expect(SEND_WINDOW_MS).toBeGreaterThan(1000);
    for (let rps = 1; rps <= 200; rps++) {
      const rule = slotRule(rps);
      expect(rule.latenessMs).toBeLessThan(rule.intervalMs);
      expect(rule.intervalMs * rps).toBeGreaterThanOrEqual(SEND_WINDOW_MS);
    }
  });
});
