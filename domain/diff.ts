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
  /**
   * Locations kept in the same place under the same mechanism whose `appliesTo` changed: not a location ended and
   * another begun, but the same location now applying to other customers. Not in `locationsAdded`/`locationsRemoved`.
   */
  locationsReapplied: LocationReapplied[];
  /** Processors down the chain the entry starts or stops using (compared by legal entity): announced like additions. */
  subprocessorsAdded?: ChainEntry[];
  subprocessorsRemoved?: ChainEntry[];
  /** Effective date of the new state. */
  since: string;
}

export interface LocationReapplied {
  before: Location;
  after: Location;
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
    // The same object is the same state: the site shares one entry between the versions it is in (site/lib/annex.ts).
    if (!prev || prev === entry) continue;
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
    const { added, removed, reapplied } = pairReapplied(
      entry.locations.filter((l) => !prevKeys.has(canonicalJson(l))),
      prev.locations.filter((l) => !nextKeys.has(canonicalJson(l))),
    );
    diff.changed.push({
      id: entry.id,
      name: entry.name,
      fields,
      locationsAdded: added,
      locationsRemoved: removed,
      locationsReapplied: reapplied,
      subprocessorsAdded: (entry.subprocessors ?? []).filter((c) => !chainBefore.has(c.entity.name)),
      subprocessorsRemoved: (prev.subprocessors ?? []).filter((c) => !chainAfter.has(c.entity.name)),
      since: entry.since,
    });
  }
  return diff;
}

/** A location without the customers it applies to: the same place, processor and mechanism. */
function placeKey(location: Location): string {
  const { appliesTo: _, ...place } = location;
  return canonicalJson(place);
}

/**
 * A location that left and came back identical except for `appliesTo` is one location whose applicability changed:
 * reported as such, so a reader is not told "Dublin is no longer used" beside "new location: Dublin".
 */
function pairReapplied(
  added: Location[],
  removed: Location[],
): { added: Location[]; removed: Location[]; reapplied: LocationReapplied[] } {
  const reapplied: LocationReapplied[] = [];
  const stillRemoved = [...removed];
  const stillAdded: Location[] = [];
  for (const after of added) {
    const i = stillRemoved.findIndex((before) => placeKey(before) === placeKey(after));
    const before = stillRemoved[i];
    if (before === undefined) {
      stillAdded.push(after);
      continue;
    }
    stillRemoved.splice(i, 1);
    reapplied.push({ before, after });
  }
  return { added: stillAdded, removed: stillRemoved, reapplied };
}
