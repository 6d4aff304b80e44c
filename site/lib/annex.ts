import {
  type AnnexC,
  type AnnexCEntry,
  type Audience,
  filterEntries,
  resolveAnnexC,
  versionDates,
} from "../../domain/annex.ts";
import type { Content } from "../../domain/content.ts";
import type { IsoDate } from "../../domain/schema/common.ts";

// Many pages ask the domain for Annex C on a date (every notice page the day before and the day its change takes
// effect, every version page, today's list): the answer depends only on the content and the question, so each is
// resolved once per build and reused. Keyed by the content object, so a rebuilt content (astro dev) never sees a stale
// answer.

const resolved = new WeakMap<object, Map<string, AnnexCEntry[]>>();
const dates = new WeakMap<object, IsoDate[]>();

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
    else if (forEveryone) entries = resolveAnnexC(content, { on: version }).entries;
    else entries = filterEntries(annexOn(content, version).entries, audience);
    byKey.set(key, entries);
  }
  return { on, audience, entries };
}

export function versionDatesOf(content: Pick<Content, "subprocessors">): IsoDate[] {
  return [...datesOf(content)];
}
