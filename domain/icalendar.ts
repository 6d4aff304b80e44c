import { addDays } from "./dates.ts";
import type { IsoDate } from "./schema/common.ts";

// iCalendar (RFC 5545) files of the portal: the effective dates and objection deadlines (/calendar.ics), and a
// subscriber's own deadline (the worker's deadline.ics). Every event is a whole day: the dates in the DPA are
// calendar days in Copenhagen, so they are written as DATE values, which a calendar shows on that day wherever the
// reader is; the calendar names its zone (X-WR-TIMEZONE) for clients that ask.
//
// Written here rather than by the `ics` package the portal used before: an all-day event is eight properties, and
// the package spent about 1.4 ms on each (a schema check per event, and a fold that splits the rest of a line into
// characters again for every 75 it cuts off), 3 s of the build benchmark's 2,000 events. The text is the package's,
// byte for byte (tests/unit/icalendar.test.ts compares the two and reads the result back with ical.js), so a subscribed
// calendar sees no change: the same property order, escaping and folding.

export const CALENDAR_TIME_ZONE = "Europe/Copenhagen";

const PRODUCT_ID = "-//subprocessor-portal//calendar//EN";

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

/** Line breaks become the two characters `\n` (RFC 5545 3.3.11); the only escape of UID, URL and header values. */
const newLines = (text: string) => text.replace(/\r?\n/g, "\\n");

/** TEXT values (SUMMARY, DESCRIPTION): backslash, line break, semicolon and comma escaped (RFC 5545 3.3.11). */
const escapeText = (text: string) =>
  text.replace(/\\/g, "\\\\").replace(/\r?\n/g, "\\n").replace(/;/g, "\\;").replace(/,/g, "\\,");

const graphemes = new Intl.Segmenter("en", { granularity: "grapheme" });

// Printable ASCII and tabs: every character is one grapheme.
const PLAIN = /^[\t\x20-\x7e]*$/;

/**
 * A content line folded as the `ics` package folds it (RFC 5545 3.1): 75 characters, then a line break and a tab
 * before each further 74, counted in graphemes, so a letter with its accents or an emoji is never cut in two.
 */
function fold(line: string): string {
  if (line.length <= 75) return line;
  const chars = PLAIN.test(line) ? [...line] : Array.from(graphemes.segment(line), (g) => g.segment);
  if (chars.length <= 75) return line;
  const parts = [chars.slice(0, 75).join("")];
  for (let at = 75; at < chars.length; at += 74) parts.push(chars.slice(at, at + 74).join(""));
  return parts.join("\r\n\t");
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** A DATE value (RFC 5545 3.3.4), YYYYMMDD, of a date that exists. */
function dateValue(date: string, what: string): string {
  const valid = ISO_DATE.test(date) && !Number.isNaN(Date.parse(`${date}T00:00:00Z`)) && addDays(date, 0) === date;
  if (!valid) throw new RangeError(`${what} is not a calendar date written as YYYY-MM-DD: ${JSON.stringify(date)}`);
  return date.replace(/-/g, "");
}

function absoluteUrl(url: string): string {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || !/^https?:$/.test(parsed.protocol) || /\s/.test(url)) {
    throw new TypeError(`url is not an absolute http(s) address: ${JSON.stringify(url)}`);
  }
  return url;
}

/**
 * The VEVENT lines of each event object, written once: the site's region calendars repeat the events of
 * /calendar.ics (2,000 changes in 6 calendars). Keyed by the object, so only a caller that reuses an event shares its
 * text.
 */
const written = new WeakMap<AllDayEvent, string>();

function eventLines(e: AllDayEvent): string {
  let lines = written.get(e);
  if (lines === undefined) {
    try {
      // DTEND of an all-day event is exclusive: the next day.
      const [start, end] = [dateValue(e.date, "date"), dateValue(addDays(e.date, 1), "end")];
      lines = [
        "BEGIN:VEVENT",
        fold(`UID:${newLines(e.uid)}`),
        ...(e.title ? [fold(`SUMMARY:${escapeText(e.title)}`)] : []),
        `DTSTAMP:${dateValue(e.stamp, "stamp")}T000000Z`,
        `DTSTART;VALUE=DATE:${start}`,
        `DTEND;VALUE=DATE:${end}`,
        ...(e.description ? [fold(`DESCRIPTION:${escapeText(e.description)}`)] : []),
        fold(`URL:${newLines(absoluteUrl(e.url))}`),
        "TRANSP:TRANSPARENT",
        "END:VEVENT",
        "",
      ].join("\r\n");
    } catch (error) {
      throw new Error(`event ${e.uid}: ${(error as Error).message}`);
    }
    written.set(e, lines);
  }
  return lines;
}

export function icsCalendar(name: string, events: readonly AllDayEvent[]): string {
  try {
    const header = [
      "BEGIN:VCALENDAR",
      "VERSION:2.0",
      "CALSCALE:GREGORIAN",
      fold(`PRODID:${PRODUCT_ID}`),
      "METHOD:PUBLISH",
      ...(name ? [fold(`X-WR-CALNAME:${newLines(name)}`)] : []),
      `X-WR-TIMEZONE:${CALENDAR_TIME_ZONE}`,
      "X-PUBLISHED-TTL:PT1H",
      "",
    ].join("\r\n");
    return `${header}${events.map(eventLines).join("")}END:VCALENDAR\r\n`;
  } catch (error) {
    throw new Error(`calendar "${name}" could not be written: ${(error as Error).message}`);
  }
}
