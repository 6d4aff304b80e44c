import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  memorySlotBook,
  SEND_WINDOW_MS,
  SLOT_LATENESS_MS,
  sendIntervalMs,
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
          const limiter = slotLimiter(memorySlotBook(), rps, time.clock, time.sleep);
          const departures: number[] = [];
          await time.run(
            Promise.all(
              Array.from({ length: callers }, async () => {
                for (let k = 0; k < 6; k++) {
                  await limiter.acquire();
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
    const limiter = slotLimiter(book, 10, time.clock, time.sleep);
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
      const limiter = slotLimiter(memorySlotBook(), 10, time.clock, time.sleep);
      const departures: number[] = [];
      await time.run(
        (async () => {
          for (let k = 0; k < 11; k++) {
            await limiter.acquire();
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

  it("leaves room for the network, and a late call can never leave after the next one", () => {
    expect(SEND_WINDOW_MS).toBeGreaterThan(1000);
    for (let rps = 1; rps <= 200; rps++) {
      const rule = slotRule(rps);
      expect(rule.latenessMs).toBeLessThan(rule.intervalMs);
      expect(rule.intervalMs * rps).toBeGreaterThanOrEqual(SEND_WINDOW_MS);
    }
  });
});
