import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { readRawContent } from "../../content-io/load-content.ts";
import { annexCDocument, horizon, resolveAnnexC } from "../../domain/annex.ts";
import { formatError, type RawContent, type RawFile, RULES, validateContent } from "../../domain/validate.ts";

// Fuzzing the validator with the shipped content's raw data, mutated at random: fields dropped or replaced, wrong
// types, random strings, dates and countries, duplicated, dropped or renamed files. Whatever staff put in content/,
// `npm run validate` must answer with errors a person can act on (file, field, a named rule, a message), never crash.

const TODAY = "2026-11-23";
const RUNS = { numRuns: 400 };
const shipped = readRawContent(".");
const KNOWN_RULES = Object.keys(RULES);

/** Values content authors (or YAML) could plausibly produce, plus arbitrary junk. */
const weird = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom("", " ", "\u0000", "da", "en", "privacy-shield", "adequacy", "https://", "not a url", "@"),
  fc.constantFrom("2024-02-30", "2024-13-01", "24-01-01", "2023-10-01", "2099-12-31", "1970-01-01", "2024-07-01"),
  fc.date({ min: new Date("1990-01-01"), max: new Date("2040-01-01"), noInvalidDate: false }),
  fc.constantFrom("DK", "US", "GB", "XX", "dk", "ZZ", "EU", "UK", "USA", "CA", "IN"),
  fc.constantFrom("aws-europe", "microsoft-azure", "moch", "ghost", "Bad Slug", "legacy", "uk", "eea-ch"),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 }), { maxKeys: 3 }),
  fc.anything({ maxDepth: 2 }),
);

type Mutation =
  | { op: "delete" | "replace"; file: number; at: number; value: unknown }
  | { op: "replace-file"; file: number; value: unknown }
  | { op: "duplicate-file" | "drop-file" | "rename-file"; file: number; name: string };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ op: fc.constant("replace" as const), file: fc.nat(), at: fc.nat(), value: weird }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant("delete" as const),
      file: fc.nat(),
      at: fc.nat(),
      value: fc.constant(null),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("replace-file" as const), file: fc.nat(), value: weird }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constantFrom("duplicate-file" as const, "drop-file" as const, "rename-file" as const),
      file: fc.nat(),
      name: fc.constantFrom("moch", "aws-europe", "ghost", "2024-07-01-moch-added", "da", "en", "x"),
    }),
  },
);

/** Every file of the raw content in one list, each tagged with the group it belongs to. */
type Group = "subprocessors" | "changes" | "dpa";
function files(raw: RawContent): { group: Group | "vendor"; index: number; file: RawFile }[] {
  return [
    { group: "vendor" as const, index: 0, file: raw.vendor },
    ...(["subprocessors", "changes", "dpa"] as const).flatMap((group) =>
      raw[group].map((file, index) => ({ group, index, file })),
    ),
  ];
}

/** Every place inside a value that a mutation can hit: the path of keys/indices from the root. */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (value === null || typeof value !== "object" || value instanceof Date) return [];
  const keys = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
  return keys.flatMap((k) => [
    [...prefix, k],
    ...paths((value as Record<string | number, unknown>)[k], [...prefix, k]),
  ]);
}

/** Generated values are copied before they go in: a later mutation must not edit fast-check's own value. */
function copy<T>(value: T): T {
  return value === undefined ? value : structuredClone(value);
}

function mutateAt(root: unknown, path: (string | number)[], op: "delete" | "replace", value: unknown): void {
  let parent = root as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const last = path.at(-1);
  if (last === undefined) return;
  if (op === "replace") parent[last] = copy(value);
  else if (Array.isArray(parent) && typeof last === "number") parent.splice(last, 1);
  else delete parent[last];
}

function rename(path: string, name: string): string {
  const parts = path.split("/");
  const base = parts.at(-1) ?? "";
  const ext = base.includes(".") ? base.slice(base.lastIndexOf(".")) : "";
  return [...parts.slice(0, -1), `${name}${ext}`].join("/");
}

function apply(raw: RawContent, m: Mutation): void {
  const all = files(raw);
  const target = all[m.file % all.length];
  if (!target) return;
  const { group, index, file } = target;
  switch (m.op) {
    case "replace":
    case "delete": {
      const candidates = paths(file.data);
      const path = candidates[m.at % Math.max(candidates.length, 1)];
      if (path) mutateAt(file.data, path, m.op, m.value);
      return;
    }
    case "replace-file":
      file.data = copy(m.value);
      return;
    case "duplicate-file":
      if (group !== "vendor") raw[group].push({ path: rename(file.path, m.name), data: structuredClone(file.data) });
      return;
    case "drop-file":
      if (group !== "vendor") raw[group].splice(index, 1);
      return;
    case "rename-file":
      file.path = rename(file.path, m.name);
      return;
  }
}

function mutated(mutations: Mutation[]): RawContent {
  const raw = structuredClone(shipped);
  for (const m of mutations) apply(raw, m);
  return raw;
}

describe("content validator under random mutations of the shipped content (fuzz)", () => {
  it("accepts the unmutated shipped content (the starting point of every mutation)", () => {
    const { content, errors } = validateContent(structuredClone(shipped), { today: TODAY });
    expect(errors).toEqual([]);
    expect(content).toBeDefined();
  });

  it("never throws; either accepts, or rejects with errors naming a file, a field and a known rule", () => {
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (mutations) => {
        const raw = mutated(mutations);
        const result = validateContent(raw, { today: TODAY });
        if (result.content) {
          expect(result.errors).toEqual([]);
        } else {
          expect(result.errors.length).toBeGreaterThan(0);
        }
        for (const error of result.errors) {
          expect(KNOWN_RULES).toContain(error.rule);
          expect(error.file).toMatch(/^content\/\S/);
          expect(typeof error.field).toBe("string");
          expect(error.message.trim().length).toBeGreaterThan(0);
          // An empty field means "the file as a whole" (e.g. a missing file or a file that is not a mapping);
          // the printed line then says so instead of leaving a blank.
          if (error.field === "") expect(formatError(error)).toContain("(file)");
          expect(formatError(error)).toContain(`[${error.rule}]`);
        }
      }),
      RUNS,
    );
  });

  it("content it accepts can always be resolved and published (nothing downstream throws on it)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 2 }), async (mutations) => {
        const { content } = validateContent(mutated(mutations), { today: TODAY });
        if (!content) return;
        const doc = await annexCDocument(content);
        expect(doc.fingerprint).toMatch(/^[0-9a-f]{64}$/);
        for (const region of content.vendor.regions) {
          const annex = resolveAnnexC(content, { on: horizon(content), region: region.id });
          expect(annex.entries.every((e) => e.locations.length > 0)).toBe(true);
        }
      }),
      { numRuns: 150 },
    );
  });

  it("a file that is not a mapping at all is reported as a schema error on that file", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 })),
        fc.nat(),
        (value, pick) => {
          const raw = structuredClone(shipped);
          const target = raw.subprocessors[pick % raw.subprocessors.length];
          if (!target) throw new Error("the shipped content has sub-processors");
          target.data = value;
          const { content, errors } = validateContent(raw, { today: TODAY });
          expect(content).toBeUndefined();
          expect(errors.some((e) => e.file === target.path && e.rule === "schema")).toBe(true);
        },
      ),
      { numRuns: 100 },
    );
  });
});
