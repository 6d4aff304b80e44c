import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { readRawContent } from "../../content-io/load-content.ts";
import {
  type AnnexCEntry,
  type Audience,
  filterEntries,
  fingerprint,
  horizon,
  publishedSnapshot,
  resolveAnnexC,
  versionDates,
} from "../../domain/annex.ts";
import {
  DANISH_CALENDAR,
  earliestEffectiveDate,
  isWithinObjectionWindow,
  objectionDeadline,
} from "../../domain/calendar.ts";
import { canonicalJson } from "../../domain/canonical.ts";
import type { Content } from "../../domain/content.ts";
import { addDays, copenhagenDate } from "../../domain/dates.ts";
import { type AnnexCDiff, diffAnnexC, isEmptyDiff } from "../../domain/diff.ts";
import type { Change } from "../../domain/schema/change.ts";
import type { SubProcessorState } from "../../domain/schema/subprocessor.ts";
import { Vendor } from "../../domain/schema/vendor.ts";
import { type RawContent, type RawFile, validateContent } from "../../domain/validate.ts";

// Properties of Annex C resolution, diff and fingerprint over random but VALID content: random sub-processors with
// random timelines, locations, regions and cohorts, each timeline step explained by a matching change entry. The
// generator is checked against the validator first, so every later property runs on content staff could ship.
// Runs are bounded so the whole file stays in the low seconds.

const RUNS = { numRuns: 120 };
const TODAY = "2026-11-23";
const FIRST_DATE = "2024-01-01";

const shipped = readRawContent(".");
const vendor = Vendor.parse(shipped.vendor.data);
const REGIONS = vendor.regions.map((r) => r.id);
const COHORTS = vendor.cohorts.map((c) => c.id);
const SERVICES = Object.keys(vendor.services);
const CATEGORIES = Object.keys(vendor.dataCategories);

// ---------------------------------------------------------------------------------------------- generators

const applicability = fc.record(
  { regions: fc.subarray(REGIONS, { minLength: 1 }), cohorts: fc.subarray(COHORTS, { minLength: 1 }) },
  { requiredKeys: [] },
);
const appliesTo = fc.option(fc.array(applicability, { minLength: 1, maxLength: 3 }), { nil: undefined });

/** Places a sub-processor may process data in, each with the transfer mechanisms that are valid there from 2024. */
const PLACES: { country: string; city?: string; transfers: (Record<string, unknown> | undefined)[] }[] = [
  { country: "DK", city: "Copenhagen", transfers: [undefined] },
  { country: "IE", city: "Dublin", transfers: [undefined] },
  { country: "NL", city: "Amsterdam", transfers: [undefined] },
  { country: "DE", city: "Frankfurt", transfers: [undefined] },
  { country: "SE", transfers: [undefined] },
  { country: "GB", city: "London", transfers: [{ mechanism: "adequacy" }, { mechanism: "scc-2021", sccModule: 3 }] },
  { country: "CA", city: "Toronto", transfers: [{ mechanism: "adequacy", reference: "Decision 2002/2/EC" }] },
  {
    country: "US",
    city: "Ashburn",
    transfers: [{ mechanism: "eu-us-dpf" }, { mechanism: "scc-2021", sccModule: 3, supplementary: true }],
  },
  { country: "IN", city: "Mumbai", transfers: [{ mechanism: "scc-2021", sccModule: 3, ukAddendum: true }] },
];

const location = fc.oneof(
  ...PLACES.map((p) =>
    fc
      .record({ transfer: fc.constantFrom(...p.transfers), appliesTo })
      .map(({ transfer, appliesTo }) =>
        clean({ country: p.country, city: p.city, transfer: fitLaws(transfer, appliesTo), appliesTo }),
      ),
  ),
);

/**
 * A mechanism that fits the laws of the regions served (domain/transfer.ts originProblem): the EU-US DPF only for
 * customers exported under the GDPR, the SCCs with the UK Addendum exactly when UK customers are among them.
 */
function fitLaws(
  transfer: Record<string, unknown> | undefined,
  rules: { regions?: string[] }[] | undefined,
): Record<string, unknown> | undefined {
  const served = new Set((rules ?? [{}]).flatMap((r) => r.regions ?? REGIONS));
  const laws = new Set(vendor.regions.filter((r) => served.has(r.id)).map((r) => r.law));
  const scc = (t: Record<string, unknown>) => ({ ...t, ukAddendum: laws.has("uk") || undefined });
  if (transfer?.mechanism === "eu-us-dpf" && [...laws].some((l) => l !== "eu")) {
    return scc({ mechanism: "scc-2021", sccModule: 3 });
  }
  return transfer?.mechanism === "scc-2021" ? scc(transfer) : transfer;
}

const state = fc.record({
  name: fc.constantFrom("Cloudy", "Mailer", "Vault Backup", "Helpdesk"),
  entity: fc.record({
    name: fc.constantFrom("Cloudy Ltd", "Mailer Inc.", "Vault ApS"),
    address: fc.record({
      street: fc.constantFrom("1 Main Street", "Havnegade 2"),
      city: fc.constantFrom("Dublin", "Seattle", "Aarhus"),
      country: fc.constantFrom("IE", "US", "DK"),
    }),
  }),
  purpose: fc.constantFrom({ da: "Hosting", en: "Hosting" }, { da: "Udsendelse af e-mail", en: "Sending email" }),
  services: fc.shuffledSubarray(SERVICES, { minLength: 1 }),
  dataCategories: fc.shuffledSubarray(CATEGORIES, { minLength: 1 }),
  locations: fc.uniqueArray(location, {
    minLength: 1,
    maxLength: 4,
    selector: (l) => `${l.country}|${l.city ?? ""}`,
  }),
});
const STATE_KEYS = ["name", "entity", "purpose", "services", "dataCategories", "locations"] as const;

/** One generated timeline step before it is made consistent with the step before it. */
const stepDraft = fc.record({
  kind: fc.constantFrom("partial", "partial", "full", "removed"),
  full: state,
  keep: fc.uniqueArray(fc.constantFrom(...STATE_KEYS), { minLength: 1 }),
  lead: fc.integer({ min: 0, max: 40 }),
});

const subprocessor = (id: string) =>
  fc
    .record({
      relationship: fc.constantFrom("affiliate", "third-party"),
      offsets: fc.uniqueArray(fc.integer({ min: 0, max: 900 }), { minLength: 1, maxLength: 4 }),
      drafts: fc.array(stepDraft, { minLength: 4, maxLength: 4 }),
    })
    .map(({ relationship, offsets, drafts }) => {
      const dates = [...offsets].sort((a, b) => a - b).map((o) => addDays(FIRST_DATE, o));
      const timeline: Record<string, unknown>[] = [];
      const changes: Record<string, unknown>[] = [];
      let listed = false;
      dates.forEach((from, i) => {
        const draft = drafts[i] ?? drafts[0];
        if (!draft) throw new Error("unreachable: four drafts are generated");
        let kind: Change["kind"];
        let step: Record<string, unknown>;
        let aspects: string[] | undefined;
        if (!listed || draft.kind === "full") {
          kind = listed ? "changed" : "added";
          step = { from, ...draft.full };
          aspects = listed ? [...STATE_KEYS, "transfer"] : undefined;
        } else if (draft.kind === "removed") {
          kind = "removed";
          step = { from, removed: true };
        } else {
          kind = "changed";
          step = { from, ...Object.fromEntries(draft.keep.map((k) => [k, draft.full[k]])) };
          aspects = draft.keep.includes("locations") ? [...draft.keep, "transfer"] : [...draft.keep];
        }
        listed = kind !== "removed";
        timeline.push(step);
        // DPA 5.2: an addition is announced at least the notice period ahead; other changes any time before.
        // A step that gives the entity may name another legal entity, which DPA 5.2 treats as an addition too.
        const lead = kind === "added" || "entity" in step ? vendor.noticePeriodDays + draft.lead : draft.lead;
        const changeId = `${from}-${id}`;
        changes.push(
          clean({
            id: changeId,
            announced: addDays(from, -lead),
            effective: from,
            kind,
            aspects,
            subprocessors: [id],
            summary: { da: `Ændring for ${id}`, en: `Change for ${id}` },
          }),
        );
      });
      const sp = {
        id,
        relationship,
        website: `https://${id}.example`,
        contact: { url: `https://${id}.example/privacy` },
        timeline,
      };
      return { sp, changes };
    });

const rawContent: fc.Arbitrary<RawContent> = fc
  .uniqueArray(fc.constantFrom("aws", "azure", "sendgrid", "vault", "helpdesk", "cdn"), { minLength: 1, maxLength: 5 })
  .chain((ids) => fc.tuple(...ids.map(subprocessor)))
  .map((sps) => ({
    vendor: shipped.vendor,
    dpa: shipped.dpa,
    subprocessors: sps.map(({ sp }) => ({ path: `content/subprocessors/${sp.id}.mdx`, data: sp })),
    changes: sps.flatMap(({ changes }) =>
      changes.map((c) => ({ path: `content/changes/${String(c.id)}.mdx`, data: c })),
    ),
  }));

/** Valid content with a date inside (or just around) its history and an audience to look at it from. */
const scenario = rawContent.chain((raw) =>
  fc.record({
    raw: fc.constant(raw),
    on: fc.integer({ min: -10, max: 960 }).map((o) => addDays(FIRST_DATE, o)),
    audience: fc.record(
      { region: fc.constantFrom(...REGIONS), cohort: fc.constantFrom(...COHORTS) },
      { requiredKeys: [] },
    ) as fc.Arbitrary<Audience>,
    seed: fc.integer(),
  }),
);

// ---------------------------------------------------------------------------------------------- helpers

function clean<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function validated(raw: RawContent): Content {
  const { content, errors } = validateContent(raw, { today: TODAY });
  if (!content) throw new Error(`generated content is invalid:\n${errors.map((e) => JSON.stringify(e)).join("\n")}`);
  return content;
}

/** An entry in a form where only meaning counts: sets as sorted arrays, `since` kept separately. */
function normal(entry: AnnexCEntry): Record<string, unknown> {
  const { since: _since, ...rest } = entry;
  return clean({
    ...rest,
    services: [...rest.services].sort(),
    dataCategories: [...rest.dataCategories].sort(),
    locations: rest.locations.map(placeKey).sort(),
  });
}

/** A location as a comparable string, `appliesTo` read as the set of rules over sets it means. */
function placeKey(location: AnnexCEntry["locations"][number]): string {
  const rules = location.appliesTo?.map((r) =>
    canonicalJson({
      regions: r.regions ? [...r.regions].sort() : null,
      cohorts: r.cohorts ? [...r.cohorts].sort() : null,
    }),
  );
  return canonicalJson({ ...location, appliesTo: rules ? [...new Set(rules)].sort() : null });
}
const normalAll = (entries: AnnexCEntry[]) => entries.map(normal);

/** Applies a diff to the earlier list: drop the removed, add the added, overwrite the changed fields. */
function applyDiff(before: AnnexCEntry[], diff: AnnexCDiff): AnnexCEntry[] {
  const byId = new Map(before.map((e) => [e.id, { ...e }]));
  for (const e of diff.removed) byId.delete(e.id);
  for (const change of diff.changed) {
    const prev = byId.get(change.id);
    if (!prev) throw new Error(`diff changes ${change.id}, which the earlier list does not have`);
    const next: Record<string, unknown> = { ...prev, since: change.since };
    for (const f of change.fields) next[f.field] = f.after;
    byId.set(change.id, next as unknown as AnnexCEntry);
  }
  for (const e of diff.added) {
    if (byId.has(e.id)) throw new Error(`diff adds ${e.id}, which the earlier list already has`);
    byId.set(e.id, e);
  }
  return [...byId.values()].sort((a, b) => a.id.localeCompare(b.id));
}

/** The independent model: fold the change log, oldest first, each change applying its sub-processor's step. */
function foldChanges(content: Content, on: string): Map<string, { state: SubProcessorState; since: string }> {
  const folded = new Map<string, { state: SubProcessorState; since: string }>();
  const ordered = [...content.changes]
    .filter((c) => c.effective <= on)
    .sort((a, b) => a.effective.localeCompare(b.effective) || a.id.localeCompare(b.id));
  for (const change of ordered) {
    for (const id of change.subprocessors) {
      const sp = content.subprocessors.find((s) => s.id === id);
      const step = sp?.timeline.find((s) => s.from === change.effective);
      if (!sp || !step) throw new Error(`change ${change.id} has no step for ${id}`);
      const { from: _from, removed, ...fields } = step;
      if (removed || change.kind === "removed") {
        folded.delete(id);
        continue;
      }
      const base = change.kind === "added" ? {} : folded.get(id)?.state;
      if (!base) throw new Error(`change ${change.id} changes ${id}, which is not listed on ${change.effective}`);
      folded.set(id, { state: { ...base, ...fields } as SubProcessorState, since: change.effective });
    }
  }
  return folded;
}

/** A small deterministic PRNG (mulberry32) so a shuffle is reproducible from the seed fast-check reports. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/**
 * Rewrites a value with every object's keys in a random order and, for arrays whose order carries no meaning, the
 * items in a random order. `ordered` names the arrays whose order does matter (the timeline is a history).
 */
function scramble(value: unknown, random: () => number, key = ""): unknown {
  if (Array.isArray(value)) {
    const items = value.map((v) => scramble(v, random));
    return key === "timeline" ? items : shuffle(items, random);
  }
  if (value && typeof value === "object") {
    const keys = shuffle(Object.keys(value), random);
    return Object.fromEntries(keys.map((k) => [k, scramble((value as Record<string, unknown>)[k], random, k)]));
  }
  return value;
}

function scrambleRaw(raw: RawContent, random: () => number): RawContent {
  const file = (f: RawFile): RawFile => ({ path: f.path, data: scramble(f.data, random) });
  return {
    vendor: raw.vendor,
    subprocessors: shuffle(raw.subprocessors, random).map(file),
    changes: shuffle(raw.changes, random).map(file),
    dpa: shuffle(raw.dpa, random),
  };
}

// ---------------------------------------------------------------------------------------------- properties

describe("random valid content (properties)", () => {
  it("the generator only makes content the validator accepts (so the properties below run on shippable content)", () => {
    fc.assert(
      fc.property(rawContent, (raw) => {
        const { content, errors } = validateContent(raw, { today: TODAY });
        expect(errors).toEqual([]);
        expect(content?.subprocessors.length).toBe(raw.subprocessors.length);
      }),
      RUNS,
    );
  });

  it("the diff of any resolved Annex C with itself is empty", () => {
    fc.assert(
      fc.property(scenario, ({ raw, on, audience }) => {
        const entries = resolveAnnexC(validated(raw), { on, ...audience }).entries;
        expect(isEmptyDiff(diffAnnexC(entries, entries))).toBe(true);
      }),
      RUNS,
    );
  });

  it("Annex C at the end date (and on any date) equals folding the change log in order", () => {
    fc.assert(
      fc.property(scenario, ({ raw, on }) => {
        const content = validated(raw);
        for (const date of [horizon(content), on]) {
          const resolved = resolveAnnexC(content, { on: date }).entries;
          const folded = foldChanges(content, date);
          expect(resolved.map((e) => e.id)).toEqual([...folded.keys()].sort());
          for (const entry of resolved) {
            const model = folded.get(entry.id);
            expect(entry.since).toBe(model?.since);
            expect(normal(entry)).toEqual(
              normal({
                ...entry,
                ...model?.state,
                services: model?.state.services ?? [],
                dataCategories: model?.state.dataCategories ?? [],
                locations: model?.state.locations ?? [],
              }),
            );
          }
        }
      }),
      RUNS,
    );
  });

  it("the diff between consecutive versions, applied to the earlier one, gives the later one", () => {
    fc.assert(
      fc.property(scenario, ({ raw, audience }) => {
        const content = validated(raw);
        const dates = [addDays(versionDates(content)[0] ?? FIRST_DATE, -1), ...versionDates(content)];
        for (let i = 1; i < dates.length; i++) {
          const before = resolveAnnexC(content, { on: dates[i - 1] ?? "", ...audience }).entries;
          const after = resolveAnnexC(content, { on: dates[i] ?? "", ...audience }).entries;
          const diff = diffAnnexC(before, after);
          expect(normalAll(applyDiff(before, diff))).toEqual(normalAll(after));
          // Added entries arrive whole; a changed entry carries the date its new state takes effect.
          for (const added of diff.added) expect(after).toContainEqual(added);
          for (const changed of diff.changed) {
            const now = after.find((e) => e.id === changed.id);
            expect(changed.since).toBe(now?.since);
            // The location lists of the diff are exactly the set difference of the two versions.
            const prev = new Set(before.find((e) => e.id === changed.id)?.locations.map((l) => canonicalJson(l)));
            const next = new Set(now?.locations.map((l) => canonicalJson(l)));
            // A location whose applicability alone changed is reported once, as reapplied, not as removed + added.
            const added = [...changed.locationsAdded, ...changed.locationsReapplied.map((r) => r.after)].map((l) =>
              canonicalJson(l),
            );
            const removed = [...changed.locationsRemoved, ...changed.locationsReapplied.map((r) => r.before)].map((l) =>
              canonicalJson(l),
            );
            for (const r of changed.locationsReapplied) {
              expect(canonicalJson({ ...r.before, appliesTo: null })).toBe(
                canonicalJson({ ...r.after, appliesTo: null }),
              );
            }
            expect(
              [...prev]
                .filter((l) => !removed.includes(l))
                .concat(added)
                .sort(),
            ).toEqual([...next].sort());
          }
          // A diff is empty exactly when nothing but bookkeeping (`since`) differs.
          expect(isEmptyDiff(diff)).toBe(canonicalJson(normalAll(before)) === canonicalJson(normalAll(after)));
        }
      }),
      RUNS,
    );
  });

  it("filtering by region or cohort never adds an entry or a location", () => {
    fc.assert(
      fc.property(scenario, ({ raw, on, audience }) => {
        const content = validated(raw);
        const all = resolveAnnexC(content, { on }).entries;
        const filtered = resolveAnnexC(content, { on, ...audience }).entries;
        expect(filtered).toEqual(filterEntries(all, audience));
        expect(filterEntries(filtered, audience)).toEqual(filtered);
        for (const entry of filtered) {
          const whole = all.find((e) => e.id === entry.id);
          expect(whole).toBeDefined();
          expect({ ...entry, locations: [] }).toEqual({ ...whole, locations: [] });
          const places = new Set(whole?.locations.map((l) => canonicalJson(l)));
          expect(entry.locations.length).toBeGreaterThan(0);
          for (const l of entry.locations) expect(places.has(canonicalJson(l))).toBe(true);
        }
        // Following two regions shows at least what each of them shows alone.
        for (const region of REGIONS) {
          const both = resolveAnnexC(content, { on, regions: [region, REGIONS[0] ?? region] }).entries;
          const one = resolveAnnexC(content, { on, region }).entries;
          for (const entry of one) {
            const wider = both.find((e) => e.id === entry.id);
            for (const l of entry.locations) expect(wider?.locations).toContainEqual(l);
          }
        }
      }),
      RUNS,
    );
  });

  it("the fingerprint does not depend on file order, key order or the order of set-like lists", async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ raw, seed }) => {
        const content = validated(raw);
        const scrambled = validated(scrambleRaw(raw, prng(seed)));
        expect(await fingerprint(publishedSnapshot(scrambled))).toBe(await fingerprint(publishedSnapshot(content)));
        for (const on of versionDates(content)) {
          expect(canonicalJson(resolveAnnexC(scrambled, { on }))).toBe(canonicalJson(resolveAnnexC(content, { on })));
        }
      }),
      RUNS,
    );
  });

  it("the fingerprint changes whenever the published list changes", async () => {
    await fc.assert(
      fc.asyncProperty(scenario, scenario, async (a, b) => {
        const x = publishedSnapshot(validated(a.raw));
        const y = publishedSnapshot(validated(b.raw));
        const same = canonicalJson(x) === canonicalJson(y);
        expect((await fingerprint(x)) === (await fingerprint(y))).toBe(same);
      }),
      { numRuns: 60 },
    );
  });
});

describe("notice and objection deadlines (properties)", () => {
  const instant = fc
    .integer({ min: Date.parse("2020-01-01T00:00:00Z"), max: Date.parse("2035-12-31T23:59:59Z") })
    .map((ms) => new Date(ms));

  it("DPA 5.2 and 5.3 together: a customer told of a new sub-processor can always object before it starts", () => {
    fc.assert(
      fc.property(instant, (receivedAt) => {
        const announced = copenhagenDate(receivedAt);
        const effective = earliestEffectiveDate(announced, vendor.noticePeriodDays);
        const deadline = objectionDeadline(receivedAt, vendor.workingDayCalendar, vendor.objectionWorkingDays);
        expect(deadline < effective).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("DPA 5.3: an objection is on time from receipt through the whole deadline day, and late from the next day", () => {
    fc.assert(
      fc.property(instant, (receivedAt) => {
        const deadline = objectionDeadline(receivedAt, DANISH_CALENDAR, vendor.objectionWorkingDays);
        expect(isWithinObjectionWindow(receivedAt, deadline)).toBe(true);
        // 21:59 UTC is 22:59 or 23:59 in Copenhagen: still the deadline day in winter and in summer.
        expect(isWithinObjectionWindow(new Date(`${deadline}T21:59:00Z`), deadline)).toBe(true);
        expect(isWithinObjectionWindow(new Date(`${addDays(deadline, 1)}T00:00:00Z`), deadline)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});
