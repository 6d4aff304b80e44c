import {
  type AnnexC,
  type AnnexCEntry,
  type Audience,
  filterEntries,
  resolveAnnexC,
  versionDates,
} from "../../domain/annex.ts";
import type { Content } from "../../domain/content.ts";
import { stepOf, touchedAudiences } from "../../domain/machine.ts";
import type { Change } from "../../domain/schema/change.ts";
import type { IsoDate } from "../../domain/schema/common.ts";

// Many pages ask the domain for Annex C on a date (every notice page the day before and the day its change takes
// effect, every version page, today's list): the answer depends only on the content and the question, so each is
// resolved once per build and reused. Keyed by the content object, so a rebuilt content (astro dev) never sees a stale
// answer.

const resolved = new WeakMap<object, Map<string, AnnexCEntry[]>>();
const dates = new WeakMap<object, IsoDate[]>();

/**
 * One entry object per sub-processor state: a sub-processor reads the same on every version date its state (the same
 * `since`) is in force, so 24 versions of 1,000 sub-processors hold some 2,000 entries, not 24,000. What is computed
 * for an entry (its canonical text, a diff that finds it unchanged) is then computed once, not once per version.
 */
const stateEntries = new WeakMap<object, Map<string, AnnexCEntry>>();

function sharedStates(content: object, entries: AnnexCEntry[]): AnnexCEntry[] {
  let byState = stateEntries.get(content);
  if (!byState) {
    byState = new Map();
    stateEntries.set(content, byState);
  }
  const known = byState;
  return entries.map((entry) => {
    const key = `${entry.id}|${entry.since}`;
    const shared = known.get(key);
    if (shared) return shared;
    known.set(key, entry);
    return entry;
  });
}

/**
 * The copies of an entry that audiences see in part, one per part: filterEntries keeps the location objects it keeps,
 * so their positions in the whole entry name the part (two cohorts of a region mostly see the same part).
 */
const entryParts = new WeakMap<AnnexCEntry, Map<string, AnnexCEntry>>();

function partKey(whole: AnnexCEntry, part: AnnexCEntry): string {
  const chain = whole.subprocessors ?? [];
  let next = 0;
  const kept = (part.subprocessors ?? []).map((c) => {
    const first = c.locations[0];
    while (next < chain.length && !(first && chain[next]?.locations.includes(first))) next++;
    const from = chain[next];
    return `${next}:${c.locations.map((l) => from?.locations.indexOf(l)).join(",")}`;
  });
  return `${part.locations.map((l) => whole.locations.indexOf(l)).join(",")}|${kept.join(";")}`;
}

/** Audience lists of one version made of the same entry objects are one list (cohorts that see the same part). */
const sharedLists = new WeakMap<readonly AnnexCEntry[], Map<string, AnnexCEntry[]>>();
const entryNumbers = new WeakMap<AnnexCEntry, number>();
let numbered = 0;

function sharedList(whole: readonly AnnexCEntry[], list: AnnexCEntry[]): AnnexCEntry[] {
  let byEntries = sharedLists.get(whole);
  if (!byEntries) {
    byEntries = new Map();
    sharedLists.set(whole, byEntries);
  }
  const key = list
    .map((entry) => {
      let n = entryNumbers.get(entry);
      if (n === undefined) {
        n = numbered++;
        entryNumbers.set(entry, n);
      }
      return n;
    })
    .join(",");
  const shared = byEntries.get(key);
  if (shared) return shared;
  byEntries.set(key, list);
  return list;
}

function sharedParts(whole: AnnexCEntry[], parts: AnnexCEntry[]): AnnexCEntry[] {
  if (parts === whole) return whole;
  let at = 0;
  const list = parts.map((part) => {
    while (at < whole.length && whole[at]?.id !== part.id) at++;
    const entry = whole[at];
    if (!entry || entry === part) return part;
    let byPart = entryParts.get(entry);
    if (!byPart) {
      byPart = new Map();
      entryParts.set(entry, byPart);
    }
    const key = partKey(entry, part);
    const shared = byPart.get(key);
    if (shared) return shared;
    byPart.set(key, part);
    return part;
  });
  return sharedList(whole, list);
}

function datesOf(content: Pick<Content, "subprocessors">): IsoDate[] {
  let list = dates.get(content);
  if (!list) {
    list = versionDates(content);
    dates.set(content, list);
  }
  return list;
}

/**
 * Annex C changes only on version dates, so on any other day it is the version in force then: 4,000 notice pages ask
 * for some 50 different days, and resolve no more lists than there are versions. An audience's list is the version's
 * list filtered for it, exactly as `resolveAnnexC` filters it.
 */
export function annexOn(content: Pick<Content, "subprocessors">, on: IsoDate, audience: Audience = {}): AnnexC {
  let byKey = resolved.get(content);
  if (!byKey) {
    byKey = new Map();
    resolved.set(content, byKey);
  }
  const version = datesOf(content)
    .filter((d) => d <= on)
    .at(-1);
  const key = JSON.stringify([
    version ?? null,
    audience.region ?? null,
    audience.regions ?? null,
    audience.cohort ?? null,
  ]);
  let entries = byKey.get(key);
  if (!entries) {
    const forEveryone = !audience.region && !audience.regions && !audience.cohort;
    if (version === undefined) entries = [];
    else if (forEveryone) entries = sharedStates(content, resolveAnnexC(content, { on: version }).entries);
    else {
      const whole = annexOn(content, version).entries;
      entries = sharedParts(whole, filterEntries(whole, audience));
    }
    byKey.set(key, entries);
  }
  return { on, audience, entries };
}

export function versionDatesOf(content: Pick<Content, "subprocessors">): IsoDate[] {
  return [...datesOf(content)];
}

const touched = new WeakMap<object, Map<string, { regions: string[]; cohorts: string[] }>>();

/** The regions and cohorts a change touches, computed once per build for /changes.json and the region calendars. */
export function touchedBy(content: Content, change: Change): { regions: string[]; cohorts: string[] } {
  let byChange = touched.get(content);
  if (!byChange) {
    byChange = new Map();
    touched.set(content, byChange);
  }
  let answer = byChange.get(change.id);
  if (!answer) {
    const { from, to } = stepOf(datesOf(content), change);
    const before = from === null ? [] : annexOn(content, from).entries;
    answer = touchedAudiences(content, change, before, annexOn(content, to).entries);
    byChange.set(change.id, answer);
  }
  return answer;
}
