import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import ICAL from "ical.js";
import { applyPatch } from "rfc6902";
import { describe, expect, it } from "vitest";
import { loadContent } from "../../content-io/load-content.ts";
import { annexCDocument, annexCVersionDocument, resolveAnnexC, versionDates } from "../../domain/annex.ts";
import { canonicalJson } from "../../domain/canonical.ts";
import type { Content } from "../../domain/content.ts";
import { DOCUMENT_FORMATS, jsonSchemaOf } from "../../domain/json-schema.ts";
import { audiences, catalogue, changeEvents, versionPatch } from "../../domain/machine.ts";
import { type AnnexCDocumentData, PUBLICATIONS_FORMAT, schemaPath } from "../../domain/schema/documents.ts";
import type { SubProcessor } from "../../domain/schema/subprocessor.ts";
import { calendarFile } from "../../site/lib/calendar.ts";

// The machine-readable portal from the domain outwards, without a site build (tests/unit/machine-build.test.ts checks
// the built files): JSON Patches that walk every version, events that ignore content order, documents that validate
// against their published JSON Schemas, schemas that cannot change under a published version, calendars that parse.

const BASE = "https://portal.test/";
const loaded = loadContent(".", "2026-11-23");
if (!loaded.content) throw new Error(`shipped content is invalid: ${JSON.stringify(loaded.errors)}`);
const content: Content = loaded.content;
const dates = versionDates(content);
const versionDoc = (date: string) => annexCVersionDocument(content, date, { baseUrl: BASE });

function validator() {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  addFormats(ajv);
  for (const format of DOCUMENT_FORMATS) ajv.addSchema(jsonSchemaOf(format, BASE));
  return (doc: { $schema?: unknown; [key: string]: unknown }) => {
    const validate = ajv.getSchema(String(doc.$schema));
    if (!validate) throw new Error(`no schema at ${String(doc.$schema)}`);
    const ok = validate(doc);
    return ok ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
  };
}

describe("change events (/changes.json)", () => {
  it("applying every patch in order to the first version reproduces every later version exactly", async () => {
    const events = await changeEvents(content, { baseUrl: BASE });
    expect(events.first?.date).toBe(dates[0]);
    expect(dates.length).toBeGreaterThan(1);
    // Another JSON Patch implementation than the one that wrote the patches.
    const doc = JSON.parse(canonicalJson(await versionDoc(dates[0] as string))) as AnnexCDocumentData;
    for (const event of events.events) {
      const errors = applyPatch(doc, event.patch).filter((e) => e !== null);
      expect(errors, event.id).toEqual([]);
      expect(canonicalJson(doc), `after ${event.id}`).toBe(canonicalJson(await versionDoc(event.to)));
    }
    expect(doc.on).toBe(dates.at(-1));
  });

  it("one event per change entry, in effective order, naming the versions it moves between", async () => {
    const { events } = await changeEvents(content, { baseUrl: BASE });
    expect(events.map((e) => e.id).sort()).toEqual(content.changes.map((c) => c.id).sort());
    for (const e of events) {
      expect(e.to).toBe(e.effective);
      expect(e.from).toBe(dates.filter((d) => d < e.to).at(-1) ?? null);
      expect(e.html.en).toBe(`${BASE}en/changes/${e.id}/`);
    }
    const effective = events.map((e) => e.effective);
    expect(effective).toEqual([...effective].sort());
  });

  it("the regions and cohorts of an event are exactly those whose Annex C of its sub-processors differs", async () => {
    const { events } = await changeEvents(content, { baseUrl: BASE });
    for (const e of events) {
      const rows = (on: string | null, audience: { region: string; cohort: string }) =>
        on === null
          ? "[]"
          : canonicalJson(
              resolveAnnexC(content, { on, ...audience })
                .entries.filter((x) => e.subprocessors.includes(x.id))
                .map(({ since: _since, ...rest }) => rest),
            );
      for (const audience of audiences(content.vendor)) {
        const differs = rows(e.from, audience) !== rows(e.to, audience);
        if (differs) {
          expect(e.regions, `${e.id} ${audience.region}`).toContain(audience.region);
          expect(e.cohorts, `${e.id} ${audience.cohort}`).toContain(audience.cohort);
        }
      }
      for (const region of e.regions) {
        const some = audiences(content.vendor).some((a) => a.region === region && rows(e.from, a) !== rows(e.to, a));
        expect(some, `${e.id} lists ${region} without touching it`).toBe(true);
      }
    }
    // Twilio SendGrid only carries the legacy customers' email: the current cohort is untouched by it.
    const twilio = events.find((e) => e.subprocessors.includes("twilio-sendgrid"));
    expect(twilio?.cohorts).not.toContain("current");
    expect(twilio?.cohorts).toContain("legacy");
  });

  it("reordering content (files, locations, lists, applicability rules) changes no event and no patch", async () => {
    const shuffle = <T>(list: readonly T[] | undefined) => (list ? [...list].reverse() : list);
    const reordered: Content = {
      ...content,
      subprocessors: shuffle(content.subprocessors)?.map(
        (sp): SubProcessor => ({
          ...sp,
          timeline: sp.timeline.map((step) => ({
            ...step,
            ...(step.services ? { services: shuffle(step.services) } : {}),
            ...(step.dataCategories ? { dataCategories: shuffle(step.dataCategories) } : {}),
            ...(step.locations
              ? {
                  locations: shuffle(step.locations)?.map((l) => ({
                    ...l,
                    ...(l.appliesTo
                      ? {
                          appliesTo: shuffle(l.appliesTo)?.map((r) => ({
                            ...r,
                            ...(r.regions ? { regions: shuffle(r.regions) } : {}),
                          })),
                        }
                      : {}),
                  })),
                }
              : {}),
          })),
        }),
      ) as SubProcessor[],
      changes: shuffle(content.changes)?.map((c) => ({ ...c, subprocessors: shuffle(c.subprocessors) ?? [] })) ?? [],
    };
    expect(await changeEvents(reordered, { baseUrl: BASE })).toEqual(await changeEvents(content, { baseUrl: BASE }));
  });

  it("a version patch is small: one new sub-processor early in the list is one add, not a rewrite of the rest", async () => {
    const before = await versionDoc(dates.at(-1) as string);
    const first = before.snapshot.entries[0];
    if (!first) throw new Error("no entries");
    const extra = { ...first, id: "aaa-first", name: "AAA" };
    const after = { ...before, snapshot: { ...before.snapshot, entries: [extra, ...before.snapshot.entries] } };
    expect(versionPatch(before, after)).toEqual([{ op: "add", path: "/snapshot/entries/0", value: extra }]);
  });
});

describe("JSON Schemas (/schema/)", () => {
  it("every document the portal serves validates against the schema its $schema names (ajv, draft 2020-12)", async () => {
    const validate = validator();
    const docs: { name: string; doc: { $schema?: unknown; [key: string]: unknown } }[] = [
      { name: "/annex-c.json", doc: await annexCDocument(content, { baseUrl: BASE }) },
      { name: "catalogue", doc: await catalogue(content, { baseUrl: BASE, today: "2026-11-23" }) },
      { name: "changes", doc: await changeEvents(content, { baseUrl: BASE }) },
      {
        name: "publications",
        doc: {
          $schema: new URL(schemaPath(PUBLICATIONS_FORMAT), BASE).href,
          format: PUBLICATIONS_FORMAT,
          publications: [
            {
              id: 1,
              fingerprint: "a".repeat(64),
              previousFingerprint: null,
              publishedAt: "2026-11-23T10:00:00.000Z",
              recipientCount: 0,
              baseline: true,
            },
          ],
        },
      },
    ];
    for (const date of dates) {
      docs.push({ name: date, doc: await versionDoc(date) });
      for (const audience of audiences(content.vendor)) {
        const doc = await annexCVersionDocument(content, date, { baseUrl: BASE, audience });
        docs.push({ name: `${date}/${audience.region}/${audience.cohort}`, doc });
      }
    }
    for (const { name, doc } of docs) expect(validate(doc), name).toEqual([]);
  });

  it("a document that breaks its schema is refused (the validator is not a formality)", async () => {
    const validate = validator();
    const doc = await versionDoc(dates[0] as string);
    expect(validate({ ...doc, fingerprint: "not-hex" })).not.toEqual([]);
    expect(validate({ ...doc, surprise: true })).not.toEqual([]);
    const [entry, ...rest] = doc.snapshot.entries;
    const broken = { ...doc, snapshot: { ...doc.snapshot, entries: [{ ...entry, since: "1 July" }, ...rest] } };
    expect(validate(broken)).not.toEqual([]);
  });

  // A published schema is a promise to every consumer that validates against it: its structure never changes. Words
  // (title, description) may improve; anything else needs a new format number, e.g. annex-c/2 → /schema/annex-c-2.json.
  const SNAPSHOTS = join(import.meta.dirname, "../fixtures/schemas");
  const structure = (schema: unknown): unknown => {
    if (Array.isArray(schema)) return schema.map(structure);
    if (schema === null || typeof schema !== "object") return schema;
    return Object.fromEntries(
      Object.entries(schema)
        .filter(([k]) => k !== "description" && k !== "title")
        .map(([k, v]) => [k, structure(v)]),
    );
  };

  for (const format of DOCUMENT_FORMATS) {
    it(`the structure of ${format} is the published one (${schemaPath(format)})`, () => {
      const file = join(SNAPSHOTS, schemaPath(format).slice("/schema/".length));
      const published = JSON.parse(readFileSync(file, "utf8")) as unknown;
      expect(
        structure(jsonSchemaOf(format, BASE)),
        `${format} changed: bump its format number and add the new schema to tests/fixtures/schemas`,
      ).toEqual(structure(published));
    });
  }

  it("the comparison ignores wording and catches a new field", () => {
    const schema = jsonSchemaOf(DOCUMENT_FORMATS[0] as (typeof DOCUMENT_FORMATS)[number], BASE) as {
      properties: Record<string, unknown>;
    };
    const reworded = { ...schema, description: "other words" };
    const extended = { ...schema, properties: { ...schema.properties, extra: { type: "string" } } };
    expect(structure(reworded)).toEqual(structure(schema));
    expect(structure(extended)).not.toEqual(structure(schema));
    expect(readdirSync(SNAPSHOTS).sort()).toEqual(DOCUMENT_FORMATS.map((f) => schemaPath(f).slice(8)).sort());
  });
});

describe("calendars (/calendar.ics, /calendar/<region>.ics)", () => {
  const parse = (ics: string) => {
    const cal = new ICAL.Component(ICAL.parse(ics));
    return { cal, events: cal.getAllSubcomponents("vevent").map((v) => new ICAL.Event(v)) };
  };

  it("one all-day event per effective date and one per change's objection deadline, in Copenhagen's calendar", () => {
    const { cal, events } = parse(calendarFile(content, BASE));
    expect(cal.getFirstPropertyValue("x-wr-timezone")).toBe("Europe/Copenhagen");
    const effective = [...new Set(content.changes.map((c) => c.effective))].sort();
    expect(events).toHaveLength(effective.length + content.changes.length);
    for (const e of events) {
      expect(e.startDate.isDate, e.summary).toBe(true);
      expect(e.endDate.isDate, e.summary).toBe(true);
      // DTEND of a whole day is the next day (exclusive).
      expect(e.endDate.toJSDate().getTime() - e.startDate.toJSDate().getTime()).toBe(24 * 3600 * 1000);
    }
    expect(new Set(events.map((e) => e.uid)).size).toBe(events.length);
    const starts = events.filter((e) => e.uid.startsWith("effective-")).map((e) => e.startDate.toString());
    expect(starts).toEqual(effective);
    // Announced Friday 31 May 2024; 5 June (Constitution Day) is a closed day: 10 working days end on 17 June.
    const aws = events.find((e) => e.uid.startsWith("objection-2024-07-01-aws-regional-data-centres@"));
    expect(aws?.startDate.toString()).toBe("2024-06-17");
    expect(aws?.component.getFirstPropertyValue("url")).toBe(`${BASE}en/changes/2024-07-01-aws-regional-data-centres/`);
  });

  it("a region's calendar has the changes touching that region, with the same deadline UIDs as the full one", async () => {
    const all = parse(calendarFile(content, BASE)).events;
    const { events: eventsOf } = await changeEvents(content, { baseUrl: BASE });
    for (const region of content.vendor.regions.map((r) => r.id)) {
      const { events } = parse(calendarFile(content, BASE, region));
      const deadlines = events.filter((e) => e.uid.startsWith("objection-")).map((e) => e.uid);
      const expected = eventsOf.filter((e) => e.regions.includes(region)).map((e) => e.id);
      expect(deadlines.map((uid) => uid.slice("objection-".length).split("@")[0]).sort(), region).toEqual(
        expected.sort(),
      );
      for (const uid of deadlines) expect(all.some((e) => e.uid === uid)).toBe(true);
    }
  });
});
