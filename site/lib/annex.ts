import { type AnnexC, type Audience, resolveAnnexC, versionDates } from "../../domain/annex.ts";
import type { Content } from "../../domain/content.ts";
import type { IsoDate } from "../../domain/schema/common.ts";

// Many pages ask the domain for Annex C on the same few dates (every notice page of one day, every version page):
// the answer depends only on the content and the question, so each is resolved once per build and reused.
// Keyed by the content object, so a rebuilt content (astro dev) never sees a stale answer.

const resolved = new WeakMap<object, Map<string, AnnexC>>();
const dates = new WeakMap<object, IsoDate[]>();

export function annexOn(content: Pick<Content, "subprocessors">, on: IsoDate, audience: Audience = {}): AnnexC {
  let byKey = resolved.get(content);
  if (!byKey) {
    byKey = new Map();
    resolved.set(content, byKey);
  }
  const key = JSON.stringify([on, audience.region ?? null, audience.regions ?? null, audience.cohort ?? null]);
  let annex = byKey.get(key);
  if (!annex) {
    annex = resolveAnnexC(content, { on, ...audience });
    byKey.set(key, annex);
  }
  return annex;
}

export function versionDatesOf(content: Pick<Content, "subprocessors">): IsoDate[] {
  let list = dates.get(content);
  if (!list) {
    list = versionDates(content);
    dates.set(content, list);
  }
  return [...list];
}
