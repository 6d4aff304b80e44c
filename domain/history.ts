import { type Audience, resolveAnnexC } from "./annex.ts";
import { earliestEffectiveDate } from "./calendar.ts";
import { canonicalJson } from "./canonical.ts";
import type { Content } from "./content.ts";
import { addDays } from "./dates.ts";
import { type ComparedField, diffAnnexC } from "./diff.ts";
import type { Change } from "./schema/change.ts";
import type { IsoDate } from "./schema/common.ts";
import type { SubProcessor } from "./schema/subprocessor.ts";

// The rules that need history: a pull request is checked against its base branch (README "Publishing by pull
// request"). Pure: the caller reads both content trees and passes `today`. A pull request is compared with the
// branch it merges into, so whatever customers have already been told stays true.

/** Rules that compare the content of a pull request (head) with the branch it merges into (base). */
export const HISTORY_RULES = {
  "unexplained-annex-change":
    "Any change to what Annex C says, on any date and for any region or cohort, needs a new or edited change entry with that effective date naming the sub-processor",
  "published-change-edited":
    "A published change entry (announced on or before today) may not be edited or deleted; correct it with a new entry",
  "effective-moved-earlier":
    "DPA 5.2: an effective date may not be moved earlier than the notice period after the announcement allows",
  "backdated-notice":
    "A new change entry cannot be announced before today: written notice is given when the entry is published",
} as const;
export type HistoryRule = keyof typeof HISTORY_RULES;

export interface HistoryError {
  file: string;
  /** Dotted path to the field inside the file; empty when the whole file is meant (e.g. it was deleted). */
  field: string;
  rule: HistoryRule;
  message: string;
}

export function formatHistoryError(e: HistoryError): string {
  return `${e.file}: ${e.field || "(file)"}: [${e.rule}] ${e.message}`;
}

/**
 * The fields a timeline step can change. The sub-processor's website, contact and relationship sit outside the
 * timeline: correcting them needs no dated change entry (the fingerprint still changes, so a notice still goes out).
 */
const TIMELINE_FIELDS: ReadonlySet<ComparedField> = new Set([
  "name",
  "entity",
  "purpose",
  "services",
  "dataCategories",
  "locations",
  "subprocessors",
]);

export function subprocessorFile(id: string): string {
  return `content/subprocessors/${id}.mdx`;
}

export function changeFile(id: string): string {
  return `content/changes/${id}.mdx`;
}

/** Every date Annex C could differ on: each timeline date of either version and the day before it. */
export function datesToCompare(base: Pick<Content, "subprocessors">, head: Pick<Content, "subprocessors">): IsoDate[] {
  const dates = new Set<IsoDate>();
  for (const sp of [...base.subprocessors, ...head.subprocessors]) {
    for (const step of sp.timeline) {
      dates.add(step.from);
      dates.add(addDays(step.from, -1));
    }
  }
  return [...dates].sort();
}

/** No filter, every region, every cohort and every region × cohort pair known to either version of vendor.yaml. */
export function audiencesToCompare(base: Pick<Content, "vendor">, head: Pick<Content, "vendor">): Audience[] {
  const regions = [...new Set([...base.vendor.regions, ...head.vendor.regions].map((r) => r.id))].sort();
  const cohorts = [...new Set([...base.vendor.cohorts, ...head.vendor.cohorts].map((c) => c.id))].sort();
  return [
    {},
    ...regions.map((region) => ({ region })),
    ...cohorts.map((cohort) => ({ cohort })),
    ...regions.flatMap((region) => cohorts.map((cohort) => ({ region, cohort }))),
  ];
}

function describeAudience(a: Audience): string {
  if (a.region && a.cohort) return `region ${a.region} × cohort ${a.cohort}`;
  if (a.region) return `region ${a.region}`;
  if (a.cohort) return `cohort ${a.cohort}`;
  return "every customer";
}

/** The timeline step in force on `on` (a removal step counts), with its index. */
function stepOn(sp: SubProcessor | undefined, on: IsoDate): { index: number; from: IsoDate } | undefined {
  if (!sp) return undefined;
  let found: { index: number; from: IsoDate } | undefined;
  sp.timeline.forEach((step, index) => {
    if (step.from <= on) found = { index, from: step.from };
  });
  return found;
}

/** Change entries the pull request adds, edits or deletes: the only ones that can explain a change to Annex C. */
export function touchedChanges(base: Pick<Content, "changes">, head: Pick<Content, "changes">): Change[] {
  const before = new Map(base.changes.map((c) => [c.id, c]));
  const after = new Map(head.changes.map((c) => [c.id, c]));
  const touched: Change[] = [];
  for (const c of head.changes) {
    const prev = before.get(c.id);
    if (!prev) touched.push(c);
    // An edited entry explains a difference on its old date as well as on its new one (a moved effective date).
    else if (canonicalJson(prev) !== canonicalJson(c)) touched.push(c, prev);
  }
  for (const c of base.changes) if (!after.has(c.id)) touched.push(c);
  return touched;
}

type SubProcessors = Pick<Content, "subprocessors">;

/** Sub-processors whose Annex C entry differs between base and head on `on` for `audience`, with what differs. */
function differences(base: SubProcessors, head: SubProcessors, on: IsoDate, audience: Audience): Map<string, string> {
  const diff = diffAnnexC(
    resolveAnnexC(base, { on, ...audience }).entries,
    resolveAnnexC(head, { on, ...audience }).entries,
  );
  const what = new Map<string, string>();
  for (const e of diff.added) what.set(e.id, "adds");
  for (const e of diff.removed) what.set(e.id, "drops");
  for (const c of diff.changed) {
    const fields = c.fields.map((f) => f.field).filter((f) => TIMELINE_FIELDS.has(f));
    if (fields.length > 0) what.set(c.id, `changes the ${fields.join(", ")} of`);
  }
  return what;
}

/** Who sees a difference, in words: "every customer", or the regions and cohorts whose own list differs. */
function seenBy(base: SubProcessors, head: SubProcessors, on: IsoDate, id: string, audiences: Audience[]): string {
  const filtered = audiences.filter((a) => a.region || a.cohort);
  const seeing = filtered.filter((a) => differences(base, head, on, a).has(id));
  if (seeing.length === filtered.length) return "every customer";
  const part = (kind: "region" | "cohort") => {
    const all = filtered.filter((a) => a[kind] && !a[kind === "region" ? "cohort" : "region"]);
    const some = all.filter((a) => seeing.includes(a)).map((a) => a[kind] as string);
    if (some.length === 0) return undefined;
    return some.length === all.length ? `every ${kind}` : `${kind}${some.length > 1 ? "s" : ""} ${some.join(", ")}`;
  };
  const parts = [part("region"), part("cohort")].filter((p) => p !== undefined);
  return parts.length > 0 ? parts.join("; ") : seeing.map(describeAudience).join("; ");
}

function checkAnnexChanges(base: Content, head: Content, errors: HistoryError[]): void {
  const touched = touchedChanges(base, head);
  const audiences = audiencesToCompare(base, head);
  const baseSp = new Map(base.subprocessors.map((s) => [s.id, s]));
  const headSp = new Map(head.subprocessors.map((s) => [s.id, s]));
  const ids = [...new Set([...baseSp.keys(), ...headSp.keys()])].sort();
  for (const id of ids) {
    const b = baseSp.get(id);
    const h = headSp.get(id);
    if (b && h && canonicalJson(b) === canonicalJson(h)) continue;
    const before: SubProcessors = { subprocessors: b ? [b] : [] };
    const after: SubProcessors = { subprocessors: h ? [h] : [] };
    const reported = new Set<string>();
    // An entry only changes on its own timeline dates, so the dates of both versions of this sub-processor (and the
    // day before each) cover every date on which the two versions of Annex C can differ for it. The list for a
    // region or cohort is a filter of the whole list, so a difference for any region or cohort shows in the whole
    // list; the per-audience lists only say who sees it.
    for (const on of datesToCompare(before, after)) {
      const description = differences(before, after, on, {}).get(id);
      if (!description) continue;
      const stepBefore = stepOn(b, on);
      const stepAfter = stepOn(h, on);
      const dates = [...new Set([stepBefore?.from, stepAfter?.from].filter((d) => d !== undefined))].sort();
      const explained = touched.some((c) => c.subprocessors.includes(id) && dates.includes(c.effective));
      const key = dates.join(",");
      if (explained || reported.has(key)) continue;
      reported.add(key);
      errors.push({
        file: subprocessorFile(id),
        field: h && stepAfter ? `timeline.${stepAfter.index}.from` : "",
        rule: "unexplained-annex-change",
        message: `compared with the base, Annex C on ${on} ${description} ${id} (seen by ${seenBy(before, after, on, id, audiences)}), but no new or edited file in content/changes/ with effective ${dates.join(" or ")} names ${id}`,
      });
    }
  }
}

function checkPublishedChanges(
  base: Content,
  head: Content,
  today: IsoDate,
  bodies: HistoryOptions["bodies"],
  errors: HistoryError[],
): void {
  const after = new Map(head.changes.map((c) => [c.id, c]));
  for (const published of base.changes) {
    if (published.announced > today) continue;
    const file = changeFile(published.id);
    const now = after.get(published.id);
    if (!now) {
      errors.push({
        file,
        field: "",
        rule: "published-change-edited",
        message: `this change was announced on ${published.announced} and is part of the public record; it may not be deleted — add a new change entry that corrects it`,
      });
      continue;
    }
    const was = published as Record<string, unknown>;
    const is = now as Record<string, unknown>;
    const keys = [...new Set([...Object.keys(was), ...Object.keys(is)])].sort();
    for (const key of keys) {
      const a = was[key];
      const b = is[key];
      if (canonicalJson(a ?? null) === canonicalJson(b ?? null)) continue;
      const nested =
        a && b && typeof a === "object" && typeof b === "object" && !Array.isArray(a) && !Array.isArray(b)
          ? [...new Set([...Object.keys(a), ...Object.keys(b)])]
              .sort()
              .filter(
                (k) =>
                  canonicalJson((a as Record<string, unknown>)[k] ?? null) !==
                  canonicalJson((b as Record<string, unknown>)[k] ?? null),
              )
          : [""];
      for (const sub of nested) {
        errors.push({
          file,
          field: sub ? `${key}.${sub}` : key,
          rule: "published-change-edited",
          message: `this change was announced on ${published.announced}, so its ${sub ? `${key}.${sub}` : key} may no longer be edited — add a new change entry that corrects it`,
        });
      }
    }
    const bodyBefore = bodies?.base.get(published.id);
    const bodyAfter = bodies?.head.get(published.id);
    if (bodyBefore !== undefined && bodyAfter !== undefined && bodyBefore.trim() !== bodyAfter.trim()) {
      errors.push({
        file,
        field: "body",
        rule: "published-change-edited",
        message: `this change was announced on ${published.announced}, so the text below its frontmatter may no longer be edited — add a new change entry that corrects it`,
      });
    }
  }
}

function checkDates(base: Content, head: Content, today: IsoDate, errors: HistoryError[]): void {
  const before = new Map(base.changes.map((c) => [c.id, c]));
  const period = head.vendor.noticePeriodDays;
  for (const change of head.changes) {
    const file = changeFile(change.id);
    const prev = before.get(change.id);
    if ((!prev || prev.announced !== change.announced) && change.announced < today) {
      errors.push({
        file,
        field: "announced",
        rule: "backdated-notice",
        message: `announced ${change.announced} is before today (${today}); notice is given when this entry is published, so set announced to ${today}${change.kind === "added" ? ` and effective to ${earliestEffectiveDate(today, period)} or later (DPA 5.2)` : ""}`,
      });
    }
    if (!prev || change.effective >= prev.effective) continue;
    // Notice counts from the later of the two announced dates: moving `announced` back does not give notice that
    // was never given.
    const noticeGiven = [prev.announced, change.announced].sort().at(-1) ?? change.announced;
    const earliest = earliestEffectiveDate(noticeGiven, period);
    if (change.effective < earliest) {
      errors.push({
        file,
        field: "effective",
        rule: "effective-moved-earlier",
        message: `effective moved from ${prev.effective} to ${change.effective}, but notice was given on ${noticeGiven} and ${period} days' notice (DPA 5.2) allows ${earliest} at the earliest`,
      });
    }
  }
}

/**
 * Compares the content of a pull request (`head`) with the branch it merges into (`base`), both already validated.
 * Returns one error per broken history rule; an empty list means the change can be merged as far as history goes.
 */
export interface HistoryOptions {
  today: IsoDate;
  /** The MDX body of each change entry by id, when the caller read the files: a published body is frozen too. */
  bodies?: { base: ReadonlyMap<string, string>; head: ReadonlyMap<string, string> };
}

export function checkHistory(base: Content, head: Content, options: HistoryOptions): HistoryError[] {
  const errors: HistoryError[] = [];
  checkAnnexChanges(base, head, errors);
  checkPublishedChanges(base, head, options.today, options.bodies, errors);
  checkDates(base, head, options.today, errors);
  return errors;
}
