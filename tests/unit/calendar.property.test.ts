import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { addWorkingDays, DANISH_CALENDAR, isWorkingDay, objectionDeadline } from "../../domain/calendar.ts";
import { addDays, copenhagenDate, daysBetween } from "../../domain/dates.ts";
import type { WorkingDayCalendar } from "../../domain/schema/vendor.ts";

// Bounded runs over 2020-2035: every property below is a rule the objection window (DPA 5.3) relies on.
const RUNS = { numRuns: 300 };
const FIRST = "2020-01-01";
const SPAN = daysBetween(FIRST, "2035-12-31");

const date = fc.integer({ min: 0, max: SPAN }).map((offset) => addDays(FIRST, offset));
const count = fc.integer({ min: 0, max: 40 });
const calendar: fc.Arbitrary<WorkingDayCalendar> = fc.oneof(
  fc.constant(DANISH_CALENDAR),
  fc.constant<WorkingDayCalendar>({ country: "DK", extraClosedDays: [] }),
  fc
    .uniqueArray(
      fc
        .tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 28 }))
        .map(([m, d]) => `${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}`),
      { maxLength: 12 },
    )
    .map((extraClosedDays): WorkingDayCalendar => ({ country: "DK", extraClosedDays })),
);
const instant = fc
  .integer({ min: Date.parse("2020-01-01T00:00:00Z"), max: Date.parse("2035-12-31T23:59:59Z") })
  .map((ms) => new Date(ms));

/** Working days in the half-open interval (from, to], counted one day at a time. */
function workingDaysBetween(from: string, to: string, cal: WorkingDayCalendar): number {
  let n = 0;
  for (let d = addDays(from, 1); d <= to; d = addDays(d, 1)) if (isWorkingDay(d, cal)) n++;
  return n;
}

describe("working-day arithmetic (properties)", () => {
  it("DPA 5.3: the objection deadline always lands on a working day after the receipt day", () => {
    fc.assert(
      fc.property(instant, fc.integer({ min: 1, max: 30 }), calendar, (receivedAt, n, cal) => {
        const deadline = objectionDeadline(receivedAt, cal, n);
        expect(isWorkingDay(deadline, cal)).toBe(true);
        expect(deadline > copenhagenDate(receivedAt)).toBe(true);
      }),
      RUNS,
    );
  });

  it("exactly n working days lie in (date, addWorkingDays(date, n)], the last of them on the result", () => {
    fc.assert(
      fc.property(date, count, calendar, (start, n, cal) => {
        const end = addWorkingDays(start, n, cal);
        expect(workingDaysBetween(start, end, cal)).toBe(n);
        if (n > 0) expect(isWorkingDay(end, cal)).toBe(true);
      }),
      RUNS,
    );
  });

  it("addWorkingDays is strictly increasing in n", () => {
    fc.assert(
      fc.property(date, count, count, calendar, (start, a, b, cal) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        const earlier = addWorkingDays(start, lo, cal);
        const later = addWorkingDays(start, hi, cal);
        if (lo === hi) expect(later).toBe(earlier);
        else expect(later > earlier).toBe(true);
      }),
      RUNS,
    );
  });

  it("addWorkingDays is monotonic in the start date", () => {
    fc.assert(
      fc.property(date, date, count, calendar, (x, y, n, cal) => {
        const [lo, hi] = x <= y ? [x, y] : [y, x];
        expect(addWorkingDays(lo, n, cal) <= addWorkingDays(hi, n, cal)).toBe(true);
      }),
      RUNS,
    );
  });

  it("n working days span at least n calendar days, and more than n once n ≥ 6 (a weekend must fall inside)", () => {
    fc.assert(
      fc.property(date, count, calendar, (start, n, cal) => {
        const span = daysBetween(start, addWorkingDays(start, n, cal));
        expect(span).toBeGreaterThanOrEqual(n);
        if (n >= 6) expect(span).toBeGreaterThan(n);
      }),
      RUNS,
    );
  });

  it("the span of n working days is n plus the closed days (weekends, holidays) inside it", () => {
    fc.assert(
      fc.property(date, fc.integer({ min: 1, max: 40 }), calendar, (start, n, cal) => {
        const end = addWorkingDays(start, n, cal);
        const span = daysBetween(start, end);
        let closed = 0;
        for (let d = addDays(start, 1); d <= end; d = addDays(d, 1)) if (!isWorkingDay(d, cal)) closed++;
        expect(span).toBe(n + closed);
      }),
      RUNS,
    );
  });
});
