import { describe, expect, it } from "vitest";
import { loadContent } from "../../content-io/load-content.ts";
import { annexCVersionDocument, filterEntries, fingerprint, resolveAnnexC, versionDates } from "../../domain/annex.ts";
import { canonicalJson } from "../../domain/canonical.ts";
import type { Content } from "../../domain/content.ts";
import { addDays } from "../../domain/dates.ts";
import { type AllDayEvent, icsCalendar } from "../../domain/icalendar.ts";
import { audiences } from "../../domain/machine.ts";
import { annexOn } from "../../site/lib/annex.ts";
import { documentsOf, jsonResponse } from "../../site/lib/machine.ts";

// The build resolves and writes things once and reuses them (README "Benchmarks"); reusing must never change a byte.

const loaded = loadContent(".", "2026-11-23");
if (!loaded.content) throw new Error(`shipped content is invalid: ${JSON.stringify(loaded.errors)}`);
const content: Content = loaded.content;

describe("Annex C once per version", () => {
  const dates = versionDates(content);
  const first = dates[0] ?? "2023-10-01";
  const days: string[] = [];
  for (let d = addDays(first, -2); d <= addDays(dates.at(-1) ?? first, 2); d = addDays(d, 1)) days.push(d);

  it("gives on every day, for everyone and for every audience, what the domain resolves for that day", () => {
    for (const on of days) {
      for (const audience of [{}, ...audiences(content.vendor), { regions: ["uk", "eea"] }]) {
        const cached = annexOn(content, on, audience);
        expect(cached.on).toBe(on);
        expect(canonicalJson(cached.entries)).toBe(canonicalJson(resolveAnnexC(content, { on, ...audience }).entries));
      }
    }
  });

  it("shares one entry object between the versions one state is in force, and one copy per part an audience sees", () => {
    // One sub-processor renamed on a later date: every other one reads the same in that new version.
    const [sp, ...rest] = content.subprocessors;
    if (!sp) throw new Error("shipped content has no sub-processors");
    const renamed = { ...sp, timeline: [...sp.timeline, { from: "2026-01-05", name: `${sp.id} renamed` }] };
    const later: Content = { ...content, subprocessors: [renamed, ...rest] };
    const byState = new Map<string, object>();
    const byPart = new Map<string, object>();
    let shared = 0;
    for (const on of versionDates(later)) {
      for (const entry of annexOn(later, on).entries) {
        const key = `${entry.id}|${entry.since}`;
        if (byState.has(key)) shared++;
        expect(byState.get(key) ?? entry).toBe(entry);
        byState.set(key, entry);
      }
      for (const audience of audiences(content.vendor)) {
        for (const entry of annexOn(later, on, audience).entries) {
          const key = canonicalJson(entry);
          expect(byPart.get(key) ?? entry).toBe(entry);
          byPart.set(key, entry);
        }
      }
    }
    const unchanged = resolveAnnexC(content, { on: dates.at(-1) ?? first }).entries;
    expect(shared).toBe(unchanged.filter((e) => e.id !== sp.id).length);
  });

  it("keeps an entry an audience sees whole as the same object, and copies one it sees in part", () => {
    const all = resolveAnnexC(content, { on: dates.at(-1) ?? first }).entries;
    for (const audience of audiences(content.vendor)) {
      for (const entry of filterEntries(all, audience)) {
        const original = all.find((e) => e.id === entry.id);
        expect(entry === original).toBe(canonicalJson(entry) === canonicalJson(original));
      }
    }
  });
});

describe("version documents built once and shared", () => {
  it("read, for every version and audience, byte for byte what the domain builds fresh, fingerprint included", async () => {
    const baseUrl = "https://portal.example/";
    const documentOf = documentsOf(content, baseUrl);
    for (const date of versionDates(content)) {
      for (const audience of [undefined, ...audiences(content.vendor)]) {
        const shared = await jsonResponse(await documentOf(date, audience), true).text();
        const fresh = await annexCVersionDocument(content, date, { baseUrl, audience });
        expect(shared).toBe(canonicalJson(fresh));
        expect(JSON.parse(shared).fingerprint).toBe(await fingerprint(fresh.snapshot));
      }
    }
  });

  it("keeps every character of a text it holds as one piece: non-Latin letters, emoji and a lone surrogate", async () => {
    const [sp, ...rest] = content.subprocessors;
    const [first, ...later] = sp?.timeline ?? [];
    if (!sp || !first) throw new Error("shipped content has no sub-processors");
    const name = "Ærø Øst — 東京 😀 \ud800 end";
    const odd: Content = { ...content, subprocessors: [{ ...sp, timeline: [{ ...first, name }, ...later] }, ...rest] };
    const baseUrl = "https://portal.example/";
    const date = versionDates(odd).find((d) => d >= first.from) ?? first.from;
    const shared = await jsonResponse(await documentsOf(odd, baseUrl)(date), true).text();
    expect(shared).toBe(canonicalJson(await annexCVersionDocument(odd, date, { baseUrl })));
    expect(shared).toContain('"Ærø Øst — 東京 😀 \\ud800 end"');
  });
});

describe("canonical JSON with texts already written", () => {
  const value = { b: [{ y: 1, x: "two" }], a: { c: null } };

  it("writes the same bytes with and without the texts of its parts", () => {
    const written = new WeakMap<object, string>([[value.b[0] as object, canonicalJson(value.b[0])]]);
    expect(canonicalJson(value, written)).toBe(canonicalJson(value));
    expect(canonicalJson(value)).toBe('{"a":{"c":null},"b":[{"x":"two","y":1}]}');
  });

  it("takes a part's text from `written` instead of writing it again", () => {
    const written = new WeakMap<object, string>([[value.a, '"known"']]);
    expect(canonicalJson(value, written)).toBe('{"a":"known","b":[{"x":"two","y":1}]}');
  });
});

describe("an iCalendar event written once for several calendars", () => {
  const event = (n: number): AllDayEvent => ({
    uid: `objection-${n}@example.test`,
    date: addDays("2026-01-05", n),
    title: `Last day to object: change ${n}`,
    description: `DPA 5.3: ${"a long line that the writer folds at 75 octets, ".repeat(4)}${n}\n- second line`,
    url: `https://example.test/en/changes/${n}/`,
    stamp: "2026-01-01",
  });
  const shared = [event(1), event(2), event(3)];

  it("reads the same in every calendar as an event written fresh for it", () => {
    const once = icsCalendar("All", shared);
    const again = icsCalendar("Region", [shared[2] as AllDayEvent, shared[0] as AllDayEvent]);
    expect(once).toBe(icsCalendar("All", [event(1), event(2), event(3)]));
    expect(again).toBe(icsCalendar("Region", [event(3), event(1)]));
    expect(again.match(/BEGIN:VEVENT/g)).toHaveLength(2);
    expect(once).toContain("X-WR-CALNAME:All\r\n");
    expect(again).toContain("X-WR-TIMEZONE:Europe/Copenhagen\r\n");
  });

  it("names the calendar and the event when an event cannot be written", () => {
    expect(() => icsCalendar("Broken", [{ ...event(4), date: "2026-13-40" }])).toThrow(
      /calendar "Broken".*objection-4/,
    );
  });
});
