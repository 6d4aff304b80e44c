import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import ICAL from "ical.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Catalogue, ChangeEvents } from "../../domain/schema/documents.ts";
import { buildSite, files, ROOT } from "./astro-build.ts";

// The machine-readable files as built (README "Machine-readable data"). Two builds of the site: the shipped content,
// then the same content with a later change added (a new sub-processor and the removal of an existing one). Every
// file of a version that existed before must come out byte for byte the same: a consumer may have stored it, hashed
// it or cited it in an audit.

const TODAY = "2026-11-23";
const LATER = "2027-03-01";
let tmp: string;
let before: string;
let after: string;

/** A copy of content/ with a change announced after every existing one. */
function contentWithLaterChange(dir: string): void {
  cpSync(join(ROOT, "content"), dir, { recursive: true });
  writeFileSync(
    join(dir, "subprocessors/later-desk.mdx"),
    `---
id: later-desk
relationship: third-party
website: https://later-desk.example
contact:
  email: privacy@later-desk.example
timeline:
  - from: ${LATER}
    name: Later Desk ApS
    entity:
      name: Later Desk ApS
      address: { street: Vestergade 1, postalCode: "8000", city: Aarhus, country: DK }
    purpose: { da: Kundesupport., en: Customer support. }
    services: [customer-support]
    dataCategories: [name, email-address]
    locations:
      - country: DK
        city: Aarhus
---
`,
  );
  const twilio = join(dir, "subprocessors/twilio-sendgrid.mdx");
  writeFileSync(
    twilio,
    readFileSync(twilio, "utf8").replace(/---\s*$/, `  - from: ${LATER}\n    removed: true\n---\n`),
  );
  for (const [id, kind, sp] of [
    ["later-desk-added", "added", "later-desk"],
    ["twilio-sendgrid-removed", "removed", "twilio-sendgrid"],
  ] as const) {
    writeFileSync(
      join(dir, `changes/${LATER}-${id}.mdx`),
      `---
id: ${LATER}-${id}
announced: 2027-01-15
effective: ${LATER}
kind: ${kind}
subprocessors: [${sp}]
summary: { da: En senere ændring., en: A later change. }
---
`,
    );
  }
}

beforeAll(() => {
  mkdirSync(join(ROOT, ".astro"), { recursive: true });
  tmp = mkdtempSync(join(ROOT, ".astro", "machine-test-"));
  before = join(tmp, "before");
  after = join(tmp, "after");
  contentWithLaterChange(join(tmp, "content"));
  // Own caches: the two builds read different content and must not share a content store.
  buildSite(before, TODAY, { ASTRO_CACHE_DIR: join(tmp, "cache-before") });
  buildSite(after, TODAY, { ASTRO_CACHE_DIR: join(tmp, "cache-after"), CONTENT_DIR: join(tmp, "content") });
}, 300_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const read = (dir: string, path: string) => readFileSync(join(dir, path), "utf8");
const json = <T>(dir: string, path: string) => JSON.parse(read(dir, path)) as T;

describe("permanent files per version", () => {
  it("adding a later change leaves every file of every earlier version byte for byte the same", () => {
    const past = files(join(before, "annex-c")).map((f) => relative(before, f));
    const { versions } = json<Catalogue>(before, "annex-c/index.json");
    // Each version: its JSON, its CSV and one JSON per region and cohort.
    expect(past.filter((p) => p !== "annex-c/index.json")).toHaveLength(
      versions.reduce((n, v) => n + 2 + v.audiences.length, 0),
    );
    for (const path of past.filter((p) => p !== "annex-c/index.json")) {
      expect(readFileSync(join(after, path)).equals(readFileSync(join(before, path))), path).toBe(true);
    }
    const later = json<Catalogue>(after, "annex-c/index.json");
    expect(later.versions.map((v) => v.date)).toEqual([...versions.map((v) => v.date), LATER]);
    expect(later.versions.slice(0, -1)).toEqual(versions);
    expect(read(after, `annex-c/${LATER}.json`)).toContain("later-desk");
    expect(read(after, `annex-c/${LATER}.json`)).not.toContain('"id":"twilio-sendgrid"');
  });

  it("each version's JSON carries the fingerprint the catalogue lists, and the published one is the horizon's", () => {
    const index = json<Catalogue>(after, "annex-c/index.json");
    for (const v of index.versions) {
      expect(json<{ fingerprint: string }>(after, `annex-c/${v.date}.json`).fingerprint).toBe(v.fingerprint);
      for (const a of v.audiences) {
        const doc = json<{ fingerprint: string; audience: unknown }>(after, new URL(a.json).pathname.slice(1));
        expect(doc.fingerprint).toBe(a.fingerprint);
        expect(doc.audience).toEqual({ region: a.region, cohort: a.cohort });
      }
    }
    expect(index.published.on).toBe(LATER);
    expect(index.published.fingerprint).toBe(index.versions.at(-1)?.fingerprint);
    // Built on TODAY, before the later change takes effect.
    expect(index.inForce).toBe(index.versions.at(-2)?.date);
  });

  it("the change events walk into the new version, and the feed links each entry's event and version", () => {
    const { events } = json<ChangeEvents>(after, "changes.json");
    const added = events.filter((e) => e.effective === LATER);
    expect(added.map((e) => e.id).sort()).toEqual([`${LATER}-later-desk-added`, `${LATER}-twilio-sendgrid-removed`]);
    expect(added[0]?.patch.length).toBeGreaterThan(0);
    const feed = read(after, "feed.xml");
    for (const e of events) {
      expect(feed).toContain(`href="https://portal.test/changes.json#${e.id}"`);
      expect(feed).toContain(`href="https://portal.test/annex-c/${e.to}.json"`);
    }
  });
});

describe("every built JSON document", () => {
  it("validates against the schema its $schema names, served under /schema/ (ajv, draft 2020-12)", () => {
    for (const dist of [before, after]) {
      const ajv = new Ajv2020({ allErrors: true, strict: true });
      addFormats(ajv);
      const schemas = files(join(dist, "schema"), ".json");
      expect(schemas.length).toBeGreaterThanOrEqual(4);
      for (const file of schemas) {
        const schema = JSON.parse(readFileSync(file, "utf8")) as { $id: string };
        expect(schema.$id).toBe(`https://portal.test/${relative(dist, file)}`);
        ajv.addSchema(schema);
      }
      const documents = files(dist, ".json").filter((f) => !f.startsWith(join(dist, "schema")));
      expect(documents.length).toBeGreaterThan(20);
      for (const file of documents) {
        const doc = JSON.parse(readFileSync(file, "utf8")) as { $schema?: string };
        const name = relative(dist, file);
        expect(doc.$schema, name).toMatch(/^https:\/\/portal\.test\/schema\/[a-z-]+-\d+\.json$/);
        const validate = ajv.getSchema(doc.$schema as string);
        expect(validate, name).toBeDefined();
        expect(validate?.(doc), `${name}: ${JSON.stringify(validate?.errors)}`).toBe(true);
      }
    }
  });
});

describe("pages that show a list", () => {
  it("a past version's page links and declares its own JSON and CSV, not the current list", () => {
    const { versions } = json<Catalogue>(after, "annex-c/index.json");
    for (const { date } of versions) {
      for (const locale of ["da", "en"]) {
        const html = read(after, `${locale}/annex-c/${date}/index.html`);
        expect(html).toContain(`<a href="/annex-c/${date}.json" type="application/json">`);
        expect(html).toContain(`<a href="/annex-c/${date}.csv" type="text/csv" download>`);
        expect(html).toMatch(new RegExp(`<link rel="alternate" type="application/json" href="/annex-c/${date}.json"`));
        expect(html).toMatch(new RegExp(`<link rel="alternate" type="text/csv" href="/annex-c/${date}.csv"`));
        expect(html).toContain('<link rel="alternate" type="application/atom+xml" href="/feed.xml"');
        // The footer links the moving list as such; the page's own downloads never do.
        expect(html.slice(html.indexOf("<main"), html.indexOf("</main>"))).not.toContain('href="/annex-c.json"');
      }
    }
  });

  it("today's list, the published list and each region's lists link the versions they show", () => {
    const index = json<Catalogue>(after, "annex-c/index.json");
    const inForce = index.inForce as string;
    expect(read(after, "en/index.html")).toContain(
      `<link rel="alternate" type="application/json" href="/annex-c/${inForce}.json"`,
    );
    expect(read(after, "en/annex-c/index.html")).toContain(
      `<link rel="alternate" type="application/json" href="/annex-c/${index.published.on}.json"`,
    );
    for (const region of index.regions) {
      const html = read(after, `en/regions/${region.id}/index.html`);
      for (const cohort of index.cohorts) {
        const path = `/annex-c/${inForce}/${region.id}/${cohort.id}.json`;
        expect(html).toContain(`<link rel="alternate" type="application/json" href="${path}"`);
        expect(existsSync(join(after, path)), path).toBe(true);
      }
    }
  });
});

describe("calendars as built", () => {
  it("parse with a real iCalendar parser: whole days, Copenhagen, one calendar per region", () => {
    const { regions } = json<Catalogue>(after, "annex-c/index.json");
    const calendars = ["calendar.ics", ...regions.map((r) => `calendar/${r.id}.ics`)];
    expect(files(join(after, "calendar"), ".ics")).toHaveLength(regions.length);
    for (const path of calendars) {
      const cal = new ICAL.Component(ICAL.parse(read(after, path)));
      expect(cal.getFirstPropertyValue("x-wr-timezone"), path).toBe("Europe/Copenhagen");
      const events = cal.getAllSubcomponents("vevent").map((v) => new ICAL.Event(v));
      expect(events.length, path).toBeGreaterThan(0);
      for (const e of events) expect(e.startDate.isDate, `${path} ${e.summary}`).toBe(true);
    }
    const all = new ICAL.Component(ICAL.parse(read(after, "calendar.ics")));
    const later = all
      .getAllSubcomponents("vevent")
      .find((v) => v.getFirstPropertyValue("uid")?.toString().startsWith(`effective-${LATER}.`));
    expect(later?.getFirstPropertyValue("dtstart")?.toString()).toBe(LATER);
  });
});

describe("unknown dates, regions and cohorts", () => {
  it("are not built, so the static host answers them with the site's 404 page", () => {
    const { versions, regions, cohorts } = json<Catalogue>(after, "annex-c/index.json");
    const [date] = versions.map((v) => v.date);
    const [region] = regions.map((r) => r.id);
    const [cohort] = cohorts.map((c) => c.id);
    for (const path of [
      "annex-c/2024-07-02.json",
      "annex-c/2024-07-02.csv",
      `annex-c/${date}/atlantis/${cohort}.json`,
      `annex-c/${date}/${region}/nobody.json`,
      `annex-c/1999-01-01/${region}/${cohort}.json`,
      "calendar/atlantis.ics",
      "schema/annex-c-0.json",
    ]) {
      expect(existsSync(join(after, path)), path).toBe(false);
    }
    expect(read(after, "404.html")).toContain("Page not found");
    expect(read(ROOT, "wrangler.toml")).toMatch(/not_found_handling = "404-page"/);
  });
});
