import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  memorySlotBook,
  RATE_WINDOW_MARGIN_MS,
  SLOT_LATENESS_MS,
  sendIntervalMs,
  slotLimiter,
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
  it("any rps + 1 consecutive calls leave more than a second apart, however late the callers wake", async () => {
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
            expect(span).toBeGreaterThanOrEqual(1000 + RATE_WINDOW_MARGIN_MS - SLOT_LATENESS_MS);
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
    expect(await book.book(0, sendIntervalMs(10))).toBe(used + sendIntervalMs(10));
  });

  it("keeps the margin above the lateness allowed, so the guarantee leaves room for the network", () => {
    expect(RATE_WINDOW_MARGIN_MS).toBeGreaterThan(SLOT_LATENESS_MS);
    expect(sendIntervalMs(2) * 2).toBeGreaterThanOrEqual(1000 + RATE_WINDOW_MARGIN_MS);
  });
});
