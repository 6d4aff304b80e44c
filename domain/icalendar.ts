import { createEvents, type DateArray, type ReturnObject } from "ics";
import { addDays } from "./dates.ts";
import type { IsoDate } from "./schema/common.ts";

// iCalendar (RFC 5545) files of the portal: the effective dates and objection deadlines (/calendar.ics), and a
// subscriber's own deadline (the worker's deadline.ics). Every event is a whole day: the dates in the DPA are
// calendar days in Copenhagen, so they are written as DATE values, which a calendar shows on that day wherever the
// reader is; the calendar names its zone (X-WR-TIMEZONE) for clients that ask.

export const CALENDAR_TIME_ZONE = "Europe/Copenhagen";

export interface AllDayEvent {
  /** Stable across builds, so a subscribed calendar updates the event instead of adding a second one. */
  uid: string;
  date: IsoDate;
  title: string;
  description: string;
  url: string;
  /** The date the event's information was given (DTSTAMP): a date from the content, never the clock. */
  stamp: IsoDate;
}

const dateArray = (date: IsoDate): DateArray => date.split("-").map(Number) as DateArray;

// `timestamp` (DTSTAMP) is read by the writer but missing from its type declarations.
const icsEvent = (e: AllDayEvent) => ({
  uid: e.uid,
  title: e.title,
  description: e.description,
  url: e.url,
  start: dateArray(e.date),
  // DTEND of an all-day event is exclusive: the next day.
  end: dateArray(addDays(e.date, 1)),
  timestamp: Date.parse(`${e.stamp}T00:00:00Z`),
  transp: "TRANSPARENT" as const,
});

/**
 * The VEVENT lines of each event object, written once: the writer validates and folds every event (about 1 ms each),
 * and the site's region calendars repeat the events of /calendar.ics (2,000 changes in 6 calendars took 12 s of the
 * build benchmark). Keyed by the object, so only a caller that reuses an event shares its text.
 */
const written = new WeakMap<AllDayEvent, string>();

function eventLines(e: AllDayEvent): string {
  let lines = written.get(e);
  if (lines === undefined) {
    let result: ReturnObject;
    try {
      result = createEvents([icsEvent(e)]);
    } catch (error) {
      result = { error: error as Error, value: null };
    }
    const { error, value } = result;
    if (error || !value) throw new Error(`event ${e.uid}: ${error?.message ?? "no output"}`);
    lines = value.slice(value.indexOf("BEGIN:VEVENT"), value.lastIndexOf("END:VCALENDAR"));
    written.set(e, lines);
  }
  return lines;
}

export function icsCalendar(name: string, events: readonly AllDayEvent[]): string {
  try {
    const { error, value } = createEvents([], { productId: "-//subprocessor-portal//calendar//EN", calName: name });
    if (error || !value) throw error ?? new Error("no output");
    const footer = value.lastIndexOf("END:VCALENDAR");
    const calendar = value.slice(0, footer) + events.map(eventLines).join("") + value.slice(footer);
    return calendar.replace("X-PUBLISHED-TTL:", `X-WR-TIMEZONE:${CALENDAR_TIME_ZONE}\r\nX-PUBLISHED-TTL:`);
  } catch (error) {
    throw new Error(`calendar "${name}" could not be written: ${(error as Error).message}`);
  }
}
