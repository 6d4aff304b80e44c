import { createEvents, type DateArray } from "ics";
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

export function icsCalendar(name: string, events: readonly AllDayEvent[]): string {
  const { error, value } = createEvents(
    events.map((e) => ({
      uid: e.uid,
      title: e.title,
      description: e.description,
      url: e.url,
      start: dateArray(e.date),
      // DTEND of an all-day event is exclusive: the next day.
      end: dateArray(addDays(e.date, 1)),
      timestamp: Date.parse(`${e.stamp}T00:00:00Z`),
      transp: "TRANSPARENT",
    })),
    { productId: "-//subprocessor-portal//calendar//EN", calName: name },
  );
  if (error || !value) throw new Error(`calendar "${name}" could not be written: ${error?.message ?? "no output"}`);
  return value.replace("X-PUBLISHED-TTL:", `X-WR-TIMEZONE:${CALENDAR_TIME_ZONE}\r\nX-PUBLISHED-TTL:`);
}
