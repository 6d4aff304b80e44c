import type { IsoDate } from "./schema/common.ts";

// Dates are plain `YYYY-MM-DD` strings in UTC: they sort and compare as text, and never drift with time zones.

export function addDays(date: IsoDate, days: number): IsoDate {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

export function daysBetween(from: IsoDate, to: IsoDate): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

// Building an Intl.DateTimeFormat costs far more than formatting with one (evidence for 10,000 customers formats
// tens of thousands of instants), so each is built once.
const COPENHAGEN_DATE = new Intl.DateTimeFormat("en-CA", {
  timeZone: "Europe/Copenhagen",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
});
const COPENHAGEN_TIME = new Intl.DateTimeFormat("en-GB", {
  timeZone: "Europe/Copenhagen",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
});

/** The calendar date of an instant in Copenhagen, where the vendor's working days are counted. */
export function copenhagenDate(instant: Date): IsoDate {
  return COPENHAGEN_DATE.format(instant);
}

/**
 * The wall-clock time of an instant in Copenhagen as `HH:MM` (24-hour), summer time included: 14:30 UTC is 15:30 in
 * winter (CET, UTC+1) and 16:30 in summer (CEST, UTC+2).
 */
export function copenhagenTime(instant: Date): string {
  return COPENHAGEN_TIME.format(instant);
}

/** ISO weekday, 1 = Monday … 7 = Sunday. */
export function isoWeekday(date: IsoDate): number {
  const day = new Date(`${date}T00:00:00Z`).getUTCDay();
  return day === 0 ? 7 : day;
}
