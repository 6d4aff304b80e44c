import type { AnnexCEntry } from "./annex.ts";
import { canonicalJson } from "./canonical.ts";
import type { ChainEntry, Location } from "./schema/subprocessor.ts";

/** Fields of an entry compared by the diff; `since` is bookkeeping and never counts as a change by itself. */
export const COMPARED_FIELDS = [
  "name",
  "relationship",
  "website",
  "contact",
  "entity",
  "purpose",
  "services",
  "dataCategories",
  "locations",
  "subprocessors",
  "subprocessorList",
  "unconfirmed",
] as const satisfies readonly (keyof AnnexCEntry)[];
export type ComparedField = (typeof COMPARED_FIELDS)[number];

export interface FieldChange {
  field: ComparedField;
  before: unknown;
  after: unknown;
}

export interface EntryChange {
  id: string;
  name: string;
  fields: FieldChange[];
  locationsAdded: Location[];
  locationsRemoved: Location[];
  /** Processors down the chain the entry starts or stops using (compared by legal entity): announced like additions. */
  subprocessorsAdded?: ChainEntry[];
  subprocessorsRemoved?: ChainEntry[];
  /** Effective date of the new state. */
  since: string;
}

export interface AnnexCDiff {
  added: AnnexCEntry[];
  removed: AnnexCEntry[];
  changed: EntryChange[];
}

export function isEmptyDiff(diff: AnnexCDiff): boolean {
  return diff.added.length === 0 && diff.removed.length === 0 && diff.changed.length === 0;
}

/** What differs between two lists of Annex C entries (each sorted by id, as resolveAnnexC returns them). */
export function diffAnnexC(before: AnnexCEntry[], after: AnnexCEntry[]): AnnexCDiff {
  const old = new Map(before.map((e) => [e.id, e]));
  const now = new Map(after.map((e) => [e.id, e]));
  const diff: AnnexCDiff = { added: [], removed: [], changed: [] };
  for (const entry of after) if (!old.has(entry.id)) diff.added.push(entry);
  for (const entry of before) if (!now.has(entry.id)) diff.removed.push(entry);
  for (const entry of after) {
    const prev = old.get(entry.id);
    if (!prev) continue;
    const fields: FieldChange[] = [];
    for (const field of COMPARED_FIELDS) {
      if (canonicalJson(prev[field]) !== canonicalJson(entry[field])) {
        fields.push({ field, before: prev[field], after: entry[field] });
      }
    }
    if (fields.length === 0) continue;
    const chainBefore = new Set((prev.subprocessors ?? []).map((c) => c.entity.name));
    const chainAfter = new Set((entry.subprocessors ?? []).map((c) => c.entity.name));
    const prevKeys = new Set(prev.locations.map((l) => canonicalJson(l)));
    const nextKeys = new Set(entry.locations.map((l) => canonicalJson(l)));
    diff.changed.push({
      id: entry.id,
      name: entry.name,
      fields,
      locationsAdded: entry.locations.filter((l) => !prevKeys.has(canonicalJson(l))),
      locationsRemoved: prev.locations.filter((l) => !nextKeys.has(canonicalJson(l))),
      subprocessorsAdded: (entry.subprocessors ?? []).filter((c) => !chainBefore.has(c.entity.name)),
      subprocessorsRemoved: (prev.subprocessors ?? []).filter((c) => !chainAfter.has(c.entity.name)),
      since: entry.since,
    });
  }
  return diff;
}
