import fc from "fast-check";
import ICAL from "ical.js";
import { createEvents, type DateArray } from "ics";
import { describe, expect, it } from "vitest";
import { addDays, daysBetween } from "../../domain/dates.ts";
import { type AllDayEvent, icsCalendar } from "../../domain/icalendar.ts";

// domain/icalendar.ts writes the calendars itself instead of through the `ics` package (its header says why). Two
// properties hold it to that: it writes exactly the package's bytes for any event, and an independent parser (ical.js)
// reads back every value it was given.

const RUNS = { numRuns: 300 };

/** The calendar as the `ics` package writes it, the way domain/icalendar.ts called it before. */
function byIcsPackage(name: string, events: readonly AllDayEvent[]): string {
  const day = (date: string) => date.split("-").map(Number) as DateArray;
  const { error, value } = createEvents(
    events.map((e) => ({
      uid: e.uid,
      title: e.title,
      description: e.description,
      url: e.url,
      start: day(e.date),
      end: day(addDays(e.date, 1)),
      timestamp: Date.parse(`${e.stamp}T00:00:00Z`),
      transp: "TRANSPARENT" as const,
    })),
    { productId: "-//subprocessor-portal//calendar//EN", calName: name },
  );
  if (error || !value) throw error ?? new Error("no output");
  return value.replace("X-PUBLISHED-TTL:", "X-WR-TIMEZONE:Europe/Copenhagen\r\nX-PUBLISHED-TTL:");
}

// What the portal's texts hold (Danish letters, punctuation the format escapes, line breaks, links), and characters
// made of several code points that a fold must never cut: emoji sequences, flags. (A letter with a combining accent is
// the one place the two differ: below.)
const PIECES = [
  ..."abcdefghijklmnopqrstuvwxyz ABCXYZ 0123456789 .-:/()'\"!?",
  ..."æøåÆØÅéü§€–…",
  ";",
  ",",
  "\\",
  "\n",
  "\r\n",
  "\t",
  "👍",
  "👍🏽",
  "👩‍💻",
  "🇩🇰",
  "❤️",
];
const text = (maxLength: number) =>
  fc.array(fc.constantFrom(...PIECES), { maxLength, size: "max" }).map((pieces) => pieces.join(""));
const FIRST = "2020-01-01";
const date = fc.integer({ min: 0, max: daysBetween(FIRST, "2035-12-31") }).map((n) => addDays(FIRST, n));
const url = fc
  .tuple(fc.domain(), fc.stringMatching(/^[a-z0-9-]{0,60}$/))
  .map(([host, path]) => `https://${host}/en/changes/${path}/`);
const event: fc.Arbitrary<AllDayEvent> = fc.record({
  uid: fc.stringMatching(/^[a-z0-9.-]{1,80}$/).map((id) => `objection-${id}@portal.example`),
  date,
  title: text(120),
  description: text(600),
  url,
  stamp: date,
});
const events = fc.array(event, { maxLength: 4 });
const name = text(100);

describe("the calendars the portal writes", () => {
  it("are byte for byte what the ics package writes for the same events", () => {
    fc.assert(
      fc.property(name, events, (calName, list) => {
        expect(icsCalendar(calName, list)).toBe(byIcsPackage(calName, list));
      }),
      RUNS,
    );
  });

  it("read back with ical.js to the events they were written from", () => {
    const unbroken = (s: string) => s.replace(/\r\n/g, "\n");
    fc.assert(
      fc.property(name.filter(Boolean), events, (calName, list) => {
        const calendar = new ICAL.Component(ICAL.parse(icsCalendar(calName, list)));
        expect(calendar.getFirstPropertyValue("x-wr-calname")).toBe(unbroken(calName).replace(/\n/g, "\\n"));
        expect(calendar.getFirstPropertyValue("x-wr-timezone")).toBe("Europe/Copenhagen");
        const read = calendar.getAllSubcomponents("vevent").map((v) => new ICAL.Event(v));
        expect(read).toHaveLength(list.length);
        list.forEach((written, i) => {
          const e = read[i] as ICAL.Event;
          expect(e.uid).toBe(written.uid);
          // An empty title or description is left out, as the package leaves it out.
          expect(e.summary ?? "").toBe(unbroken(written.title));
          expect(e.description ?? "").toBe(unbroken(written.description));
          expect(e.component.getFirstPropertyValue("url")).toBe(written.url);
          expect(e.startDate.isDate).toBe(true);
          expect(e.startDate.toString()).toBe(written.date);
          expect(e.endDate.toString()).toBe(addDays(written.date, 1));
          expect(String(e.component.getFirstPropertyValue("dtstamp"))).toBe(`${written.stamp}T00:00:00Z`);
          expect(e.component.getFirstPropertyValue("transp")).toBe("TRANSPARENT");
        });
      }),
      RUNS,
    );
  });

  it("never write a line of more than 75 characters, and never cut a character made of several code points", () => {
    const segments = new Intl.Segmenter("en", { granularity: "grapheme" });
    fc.assert(
      fc.property(events, (list) => {
        const ics = icsCalendar("Folded", list);
        for (const line of ics.split("\r\n")) {
          expect([...segments.segment(line)].length).toBeLessThanOrEqual(75);
        }
        const unfolded = ics.replace(/\r\n\t/g, "");
        for (const e of list) expect(unfolded).toContain(`UID:${e.uid}\r\n`);
      }),
      RUNS,
    );
  });

  it("keep a letter and its combining accent on one line, where the ics package cut them apart", () => {
    // 75 characters per line (RFC 5545 3.1); the package counts code points, so an accent written as a second code
    // point (NFD) could start the next line on its own. Danish text written as one code point per letter (NFC, as
    // editors write it) folds the same in both.
    const description = `${"a".repeat(62)}e\u0301 and more`;
    const e: AllDayEvent = {
      uid: "objection-2@portal.example",
      date: "2026-01-05",
      title: "Accent",
      description,
      url: "https://portal.example/en/changes/2/",
      stamp: "2026-01-01",
    };
    const ours = icsCalendar("Accents", [e]);
    expect(ours).toContain("e\u0301\r\n\t and more");
    expect(ours).not.toBe(byIcsPackage("Accents", [e]));
    expect(byIcsPackage("Accents", [e])).toContain("e\r\n\t\u0301");
    const read = new ICAL.Event(new ICAL.Component(ICAL.parse(ours)).getFirstSubcomponent("vevent") ?? undefined);
    expect(read.description).toBe(description);
  });

  it("name the calendar, the event and the value when an event cannot be written", () => {
    const good: AllDayEvent = {
      uid: "objection-1@portal.example",
      date: "2026-01-05",
      title: "Last day to object",
      description: "DPA 5.3",
      url: "https://portal.example/en/changes/1/",
      stamp: "2026-01-01",
    };
    expect(icsCalendar("Fine", [good])).toContain("DTSTART;VALUE=DATE:20260105\r\nDTEND;VALUE=DATE:20260106\r\n");
    expect(() => icsCalendar("Broken", [{ ...good, date: "2026-02-30" }])).toThrow(
      /calendar "Broken".*objection-1@portal\.example: date .*"2026-02-30"/,
    );
    expect(() => icsCalendar("Broken", [{ ...good, stamp: "1 January" }])).toThrow(/stamp .*"1 January"/);
    expect(() => icsCalendar("Broken", [{ ...good, url: "/en/changes/1/" }])).toThrow(/url .*"\/en\/changes\/1\/"/);
    expect(() => icsCalendar("Broken", [{ ...good, url: "javascript:alert(1)" }])).toThrow(/url/);
  });
});
