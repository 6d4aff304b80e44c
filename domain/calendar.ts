import Holidays from "date-holidays";
import { addDays, copenhagenDate, copenhagenTime, isoWeekday } from "./dates.ts";
import type { IsoDate, Localized } from "./schema/common.ts";
import type { Vendor, WorkingDayCalendar } from "./schema/vendor.ts";

// The Danish working-day calendar the objection window (DPA 5.3) is counted in.
// Pure and deterministic: holiday rules come from `date-holidays`, never from the clock; callers pass instants.

export type ClosedDayKind = "public-holiday" | "customary-closing";

export interface PublicHoliday {
  readonly date: IsoDate;
  readonly name: Localized;
}

export interface ClosedDay extends PublicHoliday {
  readonly kind: ClosedDayKind;
}

/**
 * Days that are not public holidays in Denmark but on which most businesses close: Constitution Day (5 June),
 * Christmas Eve and New Year's Eve. A vendor lists them in `workingDayCalendar.extraClosedDays` so that the objection
 * window never ends on a day the customer could not reasonably act; an empty list counts them as working days.
 */
export const CUSTOMARY_CLOSING_DAYS: readonly string[] = Object.freeze(["06-05", "12-24", "12-31"]);

/** The calendar the shipped vendor uses: Danish public holidays plus the customary closing days. */
export const DANISH_CALENDAR: WorkingDayCalendar = Object.freeze({
  country: "DK",
  extraClosedDays: [...CUSTOMARY_CLOSING_DAYS],
}) as WorkingDayCalendar;

/**
 * Names of the official Danish public holidays, keyed by the `date-holidays` rule that produces them. Danish names
 * follow the official spelling (e.g. "2. påskedag"); `date-holidays` only ships its own English names, so we keep
 * ours here. A public holiday the library adds later and this map does not know keeps the library's names.
 */
const PUBLIC_HOLIDAY_NAMES: Readonly<Record<string, Localized>> = {
  "01-01": { da: "Nytårsdag", en: "New Year's Day" },
  "easter -3": { da: "Skærtorsdag", en: "Maundy Thursday" },
  "easter -2": { da: "Langfredag", en: "Good Friday" },
  easter: { da: "Påskedag", en: "Easter Sunday" },
  "easter 1": { da: "2. påskedag", en: "Easter Monday" },
  "easter 26 prior to 2024": { da: "Store bededag", en: "General Prayer Day" },
  "easter 39": { da: "Kristi himmelfartsdag", en: "Ascension Day" },
  "easter 49": { da: "Pinsedag", en: "Whit Sunday" },
  "easter 50": { da: "2. pinsedag", en: "Whit Monday" },
  "12-25": { da: "Juledag", en: "Christmas Day" },
  "12-26": { da: "2. juledag", en: "Boxing Day" },
};

/** Names of days a vendor may list in `extraClosedDays` (MM-DD); any other listed day gets a generic name. */
const CUSTOMARY_CLOSING_NAMES: Readonly<Record<string, Localized>> = {
  "06-05": { da: "Grundlovsdag", en: "Constitution Day" },
  "12-24": { da: "Juleaftensdag", en: "Christmas Eve" },
  "12-31": { da: "Nytårsaftensdag", en: "New Year's Eve" },
};
const GENERIC_CLOSING_NAME: Localized = { da: "Lukkedag", en: "Closing day" };

/**
 * The longest run of consecutive non-working days we accept before calling a calendar broken. A real Danish calendar
 * never exceeds a handful (Easter: Thursday to Monday); this only stops a calendar that closes every day from looping.
 */
const MAX_CLOSED_RUN = 366;

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

function assertIsoDate(date: string): void {
  if (!ISO_DATE.test(date) || new Date(`${date}T00:00:00Z`).toISOString().slice(0, 10) !== date) {
    throw new RangeError(`not a calendar date written as YYYY-MM-DD: ${JSON.stringify(date)}`);
  }
}

let danishRules: Holidays | undefined;
const publicHolidayCache = new Map<number, readonly PublicHoliday[]>();
const closedDayCache = new Map<string, readonly ClosedDay[]>();
const closedDateCache = new Map<string, ReadonlyMap<IsoDate, ClosedDay>>();

/**
 * Official Danish public holidays (helligdage) in `year`, sorted by date. Only days `date-holidays` types as "public":
 * observances such as Fastelavn, Mors Dag, 1. maj, Grundlovsdag and Juleaftensdag are not public holidays.
 * Store bededag is included up to 2023 and not from 2024, when the Folketing abolished it.
 */
export function publicHolidays(year: number): readonly PublicHoliday[] {
  if (!Number.isInteger(year)) throw new RangeError(`year must be an integer, got ${year}`);
  const cached = publicHolidayCache.get(year);
  if (cached) return cached;
  danishRules ??= new Holidays("DK");
  const rules = danishRules;
  const result = rules
    .getHolidays(year, "da")
    .filter((h) => h.type === "public")
    .map((h): PublicHoliday => {
      const date = h.date.slice(0, 10);
      const name = PUBLIC_HOLIDAY_NAMES[h.rule] ?? {
        da: h.name,
        en: rules.getHolidays(year, "en").find((e) => e.rule === h.rule)?.name ?? h.name,
      };
      return Object.freeze({ date, name: Object.freeze({ ...name }) });
    })
    .sort((a, b) => a.date.localeCompare(b.date));
  const frozen = Object.freeze(result);
  publicHolidayCache.set(year, frozen);
  return frozen;
}

function calendarKey(year: number, calendar: WorkingDayCalendar): string {
  return `${calendar.country}:${year}:${[...calendar.extraClosedDays].sort().join(",")}`;
}

/**
 * Every day in `year` on which the objection window does not run, apart from weekends: the public holidays plus the
 * calendar's `extraClosedDays` (a listed MM-DD that does not exist in the year, e.g. 02-29, is ignored; one that is
 * already a public holiday is reported once, as the public holiday). Sorted by date.
 */
export function closedDays(year: number, calendar: WorkingDayCalendar): readonly ClosedDay[] {
  const key = calendarKey(year, calendar);
  const cached = closedDayCache.get(key);
  if (cached) return cached;
  const byDate = new Map<IsoDate, ClosedDay>();
  for (const h of publicHolidays(year)) {
    byDate.set(h.date, Object.freeze({ ...h, kind: "public-holiday" }));
  }
  for (const monthDay of calendar.extraClosedDays) {
    const date = `${String(year).padStart(4, "0")}-${monthDay}`;
    if (byDate.has(date)) continue;
    try {
      assertIsoDate(date);
    } catch {
      continue;
    }
    const name = CUSTOMARY_CLOSING_NAMES[monthDay] ?? GENERIC_CLOSING_NAME;
    byDate.set(date, Object.freeze({ date, name: Object.freeze({ ...name }), kind: "customary-closing" }));
  }
  const result = Object.freeze([...byDate.values()].sort((a, b) => a.date.localeCompare(b.date)));
  closedDayCache.set(key, result);
  closedDateCache.set(key, new Map(result.map((d) => [d.date, d])));
  return result;
}

/** The closed day (public holiday or customary closing) falling on `date`, if any. Weekends are not closed days. */
export function closedDayOn(date: IsoDate, calendar: WorkingDayCalendar): ClosedDay | undefined {
  assertIsoDate(date);
  const year = Number(date.slice(0, 4));
  const key = calendarKey(year, calendar);
  if (!closedDateCache.has(key)) closedDays(year, calendar);
  return closedDateCache.get(key)?.get(date);
}

/** A working day is a Monday to Friday that is neither a Danish public holiday nor one of the calendar's closed days. */
export function isWorkingDay(date: IsoDate, calendar: WorkingDayCalendar): boolean {
  assertIsoDate(date);
  if (isoWeekday(date) >= 6) return false;
  return closedDayOn(date, calendar) === undefined;
}

/**
 * The `n`-th working day after `date`. `date` itself never counts, whether or not it is a working day; `n = 0`
 * returns `date` unchanged.
 */
export function addWorkingDays(date: IsoDate, n: number, calendar: WorkingDayCalendar): IsoDate {
  assertIsoDate(date);
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`working days must be a whole number ≥ 0, got ${n}`);
  let current = date;
  let remaining = n;
  let closedRun = 0;
  while (remaining > 0) {
    current = addDays(current, 1);
    if (isWorkingDay(current, calendar)) {
      remaining -= 1;
      closedRun = 0;
    } else if (++closedRun > MAX_CLOSED_RUN) {
      throw new RangeError(`the working-day calendar has no working day in the year after ${date}`);
    }
  }
  return current;
}

/**
 * DPA 5.3: the customer may object within `workingDays` working days FROM RECEIPT of the notice.
 * - The receipt day is the calendar date in Copenhagen of the moment the notice was received (`receivedAt`), so an
 *   email delivered at 23:30 UTC in winter is received on the next Copenhagen day.
 * - The receipt day itself never counts, even when it is a working day: counting starts the next day.
 * - Working days exclude Saturdays, Sundays, Danish public holidays and the calendar's `extraClosedDays`.
 * The result is the last day on which an objection is on time (inclusive, Copenhagen time).
 */
export function objectionDeadline(receivedAt: Date, calendar: WorkingDayCalendar, workingDays: number): IsoDate {
  if (Number.isNaN(receivedAt.getTime())) throw new RangeError("receivedAt is not a valid instant");
  return addWorkingDays(copenhagenDate(receivedAt), workingDays, calendar);
}

/**
 * DPA 5.3 counts the objection window from RECEIPT of the notice. A notice delivered on a working day before the
 * vendor's closing time (`closingTime`, Copenhagen wall clock, summer time included) is received that day; one
 * delivered at or after it, or on a weekend or closed day, is received on the next working day, when someone at the
 * customer can be expected to read it.
 */
export function receivedOn(deliveredAt: Date, vendor: Pick<Vendor, "closingTime" | "workingDayCalendar">): IsoDate {
  if (Number.isNaN(deliveredAt.getTime())) throw new RangeError("deliveredAt is not a valid instant");
  const day = copenhagenDate(deliveredAt);
  const open = isWorkingDay(day, vendor.workingDayCalendar) && copenhagenTime(deliveredAt) < vendor.closingTime;
  return open ? day : addWorkingDays(day, 1, vendor.workingDayCalendar);
}

/**
 * Deadlines by receipt day: the evidence of one publication asks for the same few receipt days tens of thousands of
 * times (one per contact). Bounded, as a long-running isolate sees ever new days.
 */
const deadlineCache = new Map<string, IsoDate>();
const DEADLINE_CACHE_LIMIT = 10_000;

/** DPA 5.3: the last day to object for a notice received on `received` (the receipt day itself never counts). */
export function deadlineFromReceipt(
  received: IsoDate,
  vendor: Pick<Vendor, "workingDayCalendar" | "objectionWorkingDays">,
): IsoDate {
  const calendar = vendor.workingDayCalendar;
  const key = `${calendar.country}:${[...calendar.extraClosedDays].sort().join(",")}|${vendor.objectionWorkingDays}|${received}`;
  let deadline = deadlineCache.get(key);
  if (deadline === undefined) {
    deadline = addWorkingDays(received, vendor.objectionWorkingDays, calendar);
    if (deadlineCache.size >= DEADLINE_CACHE_LIMIT) deadlineCache.clear();
    deadlineCache.set(key, deadline);
  }
  return deadline;
}

export interface NoticeDeadlines {
  /** What the email states: counted as if the notice were received when it was sent. */
  stated: IsoDate;
  /** Counted from the proven delivery (Resend's `email.delivered`), once it is known. */
  fromDelivery: IsoDate | undefined;
  /** The later of the two: a delivery that proves later receipt gives the customer the later day, never less. */
  honoured: IsoDate;
}

/**
 * The deadlines of one notice. The email can only state the deadline computed from its send time; when delivery
 * proves a later receipt, the portal honours the later deadline, and the evidence shows both (DPA 5.3).
 */
export function noticeDeadlines(
  sent: { sentAt: Date; deliveredAt?: Date | undefined; stated?: IsoDate | undefined },
  vendor: Pick<Vendor, "closingTime" | "workingDayCalendar" | "objectionWorkingDays">,
): NoticeDeadlines {
  const stated = sent.stated ?? deadlineFromReceipt(receivedOn(sent.sentAt, vendor), vendor);
  const fromDelivery = sent.deliveredAt ? deadlineFromReceipt(receivedOn(sent.deliveredAt, vendor), vendor) : undefined;
  const honoured = fromDelivery !== undefined && fromDelivery > stated ? fromDelivery : stated;
  return { stated, fromDelivery, honoured };
}

/** DPA 5.3: an objection made at `now` is on time while it is still the deadline day (or earlier) in Copenhagen. */
export function isWithinObjectionWindow(now: Date, deadline: IsoDate): boolean {
  assertIsoDate(deadline);
  if (Number.isNaN(now.getTime())) throw new RangeError("now is not a valid instant");
  return copenhagenDate(now) <= deadline;
}

/**
 * DPA 5.2: a new sub-processor may start processing no earlier than `noticePeriodDays` calendar days after the
 * written notice was given (`announced`).
 */
export function earliestEffectiveDate(announced: IsoDate, noticePeriodDays: number): IsoDate {
  assertIsoDate(announced);
  if (!Number.isInteger(noticePeriodDays) || noticePeriodDays < 0) {
    throw new RangeError(`notice period must be a whole number of days ≥ 0, got ${noticePeriodDays}`);
  }
  return addDays(announced, noticePeriodDays);
}
