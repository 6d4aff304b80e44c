import jsonPatch, { type Operation } from "fast-json-patch";
import {
  type AnnexCEntry,
  annexCDocument,
  annexCVersionDocument,
  filterEntries,
  resolveAnnexC,
  type VersionAudience,
  versionDates,
} from "./annex.ts";
import { canonicalJson, type ReadonlyWeakMap } from "./canonical.ts";
import type { Content } from "./content.ts";
import { diffAnnexC, isEmptyDiff } from "./diff.ts";
import { annexCPaths } from "./paths.ts";
import type { Change } from "./schema/change.ts";
import type { IsoDate } from "./schema/common.ts";
import {
  type AnnexCDocumentData,
  CATALOGUE_FORMAT,
  type Catalogue,
  CHANGE_EVENTS_FORMAT,
  type ChangeEvent,
  type ChangeEvents,
  schemaPath,
} from "./schema/documents.ts";

// The machine-readable portal (README "Machine-readable data"): the catalogue of Annex C versions, the typed change
// events with RFC 6902 patches between versions, and the paths every file lives at. Pure: the site writes the files,
// the worker links them from notices.

export { annexCPaths };

/** Every region and cohort pair of vendor.yaml: one per-audience file per version and pair. */
export function audiences(vendor: Content["vendor"]): VersionAudience[] {
  return vendor.regions.flatMap((r) => vendor.cohorts.map((c) => ({ region: r.id, cohort: c.id })));
}

/** Builds (or looks up) the document of one version; the site passes a memoised one, so each is built once. */
export type DocumentOf = (date: IsoDate, audience?: VersionAudience) => Promise<AnnexCDocumentData>;

export interface MachineOptions {
  /** The portal's address: every URL in these documents is absolute, so a downloaded copy still points home. */
  baseUrl: string;
  documentOf?: DocumentOf | undefined;
  /** Annex C on a version date for every customer; the site passes its once-per-build resolution. */
  entriesOf?: ((date: IsoDate) => AnnexCEntry[]) | undefined;
  /** Canonical texts the caller has written already for parts of the documents (domain/canonical.ts `written`). */
  written?: ReadonlyWeakMap<object, string> | undefined;
  /** The audiences a change touches (`touchedAudiences`); the site passes the answers its calendars use too. */
  touchedOf?: ((change: Change) => { regions: string[]; cohorts: string[] }) | undefined;
}

function resolver(content: Content, options: MachineOptions): DocumentOf {
  return (
    options.documentOf ??
    ((date, audience) => annexCVersionDocument(content, date, { baseUrl: options.baseUrl, audience }))
  );
}

const abs = (baseUrl: string, path: string) => new URL(path, baseUrl).href;

/** /annex-c/index.json: every version with its fingerprint and files, the version in force and the published list. */
export async function catalogue(content: Content, options: MachineOptions & { today: IsoDate }): Promise<Catalogue> {
  const { baseUrl, today } = options;
  const documentOf = resolver(content, options);
  const { vendor } = content;
  const dates = versionDates(content);
  const published = await annexCDocument(content, { baseUrl });
  const versions = await Promise.all(
    dates.map(async (date) => ({
      date,
      json: abs(baseUrl, annexCPaths.json(date)),
      fingerprint: (await documentOf(date)).fingerprint,
      csv: abs(baseUrl, annexCPaths.csv(date)),
      html: { da: abs(baseUrl, annexCPaths.page("da", date)), en: abs(baseUrl, annexCPaths.page("en", date)) },
      audiences: await Promise.all(
        audiences(vendor).map(async (a) => ({
          ...a,
          json: abs(baseUrl, annexCPaths.audience(date, a)),
          fingerprint: (await documentOf(date, a)).fingerprint,
        })),
      ),
    })),
  );
  return {
    $schema: abs(baseUrl, schemaPath(CATALOGUE_FORMAT)),
    format: CATALOGUE_FORMAT,
    vendor: published.vendor,
    builtOn: today,
    inForce: dates.filter((d) => d <= today).at(-1) ?? null,
    published: { on: published.on, json: abs(baseUrl, annexCPaths.published), fingerprint: published.fingerprint },
    regions: published.regions,
    cohorts: published.cohorts,
    changes: abs(baseUrl, annexCPaths.changes),
    calendar: abs(baseUrl, annexCPaths.calendar),
    versions,
  };
}

/** Change log order for events: by effective date, then id. The patches are applied in this order. */
export function eventOrder(changes: readonly Change[]): Change[] {
  return [...changes].sort((a, b) => a.effective.localeCompare(b.effective) || a.id.localeCompare(b.id));
}

/** The version a change moves to (its effective date) and the one before it. */
export function stepOf(dates: readonly IsoDate[], change: Change): { from: IsoDate | null; to: IsoDate } {
  const to = dates.filter((d) => d <= change.effective).at(-1) ?? change.effective;
  return { from: dates.filter((d) => d < to).at(-1) ?? null, to };
}

/**
 * The regions and cohorts whose Annex C a change touches: those for which the change's sub-processors read
 * differently before and after. A change that only moves UK customers' data centre touches `uk` alone.
 */
export function touchedAudiences(
  content: Content,
  change: Change,
  before: readonly AnnexCEntry[],
  after: readonly AnnexCEntry[],
): { regions: string[]; cohorts: string[] } {
  const mine = (entries: readonly AnnexCEntry[]) => entries.filter((e) => change.subprocessors.includes(e.id));
  const [from, to] = [mine(before), mine(after)];
  const { vendor } = content;
  const cohorts = vendor.cohorts.length > 0 ? vendor.cohorts.map((c) => c.id) : [undefined];
  const regions = new Set<string>();
  const touchedCohorts = new Set<string>();
  for (const region of vendor.regions.map((r) => r.id)) {
    for (const cohort of cohorts) {
      const audience = { region, cohort };
      if (isEmptyDiff(diffAnnexC(filterEntries(from, audience), filterEntries(to, audience)))) continue;
      regions.add(region);
      if (cohort) touchedCohorts.add(cohort);
    }
  }
  return {
    regions: vendor.regions.map((r) => r.id).filter((id) => regions.has(id)),
    cohorts: vendor.cohorts.map((c) => c.id).filter((id) => touchedCohorts.has(id)),
  };
}

/** A document as the JSON it is served as: what a patch is computed on and applied to. */
// The default export: the package's CommonJS entry (what Node loads) has no named ESM exports.
const { applyPatch, compare, deepClone } = jsonPatch;

const asJson = (doc: AnnexCDocumentData, written?: ReadonlyWeakMap<object, string>): AnnexCDocumentData =>
  JSON.parse(canonicalJson(doc, written));

/**
 * Ops turning array `a` into array `b` at `path`, both sorted by `order`: an item kept (same position in the order)
 * is patched in place, others are removed or added where they stand. A generic array diff either compares position
 * by position (one new sub-processor early in the list rewrites every entry after it) or searches edit distances
 * (memory grows with the square of the list: 1,000 entries ran out of memory in the build benchmark).
 */
function sortedArrayPatch<T>(path: string, a: readonly T[], b: readonly T[], order: (x: T, y: T) => number) {
  const ops: Operation[] = [];
  let [i, j, at] = [0, 0, 0];
  while (i < a.length || j < b.length) {
    const x = a[i];
    const y = b[j];
    const cmp = x === undefined ? 1 : y === undefined ? -1 : order(x, y);
    if (cmp === 0) {
      for (const op of compare(x as object, y as object)) ops.push({ ...op, path: `${path}/${at}${op.path}` });
      [i, j, at] = [i + 1, j + 1, at + 1];
    } else if (cmp < 0) {
      ops.push({ op: "remove", path: `${path}/${at}` });
      i += 1;
    } else {
      ops.push({ op: "add", path: `${path}/${at}`, value: y });
      [j, at] = [j + 1, at + 1];
    }
  }
  return ops;
}

const byId = (x: { id: string }, y: { id: string }) => x.id.localeCompare(y.id);
const byEffective = (x: Change, y: Change) => x.effective.localeCompare(y.effective) || byId(x, y);

/**
 * RFC 6902 patch from one version document to another. The two long lists (entries, the change log) are merged in
 * their canonical order; everything else is compared by fast-json-patch. The result is applied once before it is
 * returned and, should it not reproduce `to` exactly, the library's whole-document comparison is used instead.
 */
export function versionPatch(
  fromDoc: AnnexCDocumentData,
  toDoc: AnnexCDocumentData,
  written?: ReadonlyWeakMap<object, string>,
): Operation[] {
  const toText = canonicalJson(toDoc, written);
  const [from, to] = [asJson(fromDoc, written), JSON.parse(toText) as AnnexCDocumentData];
  const rest = (d: AnnexCDocumentData) => ({ ...d, snapshot: { ...d.snapshot, entries: [] }, changes: [] });
  const ops = [
    ...compare(rest(from), rest(to)),
    ...sortedArrayPatch("/snapshot/entries", from.snapshot.entries, to.snapshot.entries, byId),
    ...sortedArrayPatch("/changes", from.changes, to.changes, byEffective),
  ];
  const applied = applyPatch(deepClone(from), deepClone(ops), true, false).newDocument;
  return canonicalJson(applied) === toText ? ops : compare(from, to);
}

/**
 * /changes.json: one typed event per change entry, each with an RFC 6902 patch from the `from` version's JSON to the
 * `to` version's JSON. Changes that take effect on the same day share that step, so only the first of them carries
 * the patch: applying every patch in order to the first version gives every later version exactly
 * (tests/unit/machine.test.ts applies them with another JSON Patch library). Events come from change entries only,
 * and versions are canonical, so reordering or reformatting content produces no event and no patch.
 */
export async function changeEvents(content: Content, options: MachineOptions): Promise<ChangeEvents> {
  const { baseUrl } = options;
  const documentOf = resolver(content, options);
  const dates = versionDates(content);
  const entriesOf = options.entriesOf ?? ((on: IsoDate) => resolveAnnexC(content, { on }).entries);
  const entriesOn = new Map(dates.map((d) => [d, entriesOf(d)]));
  const patched = new Set<string>();
  const events: ChangeEvent[] = [];
  for (const change of eventOrder(content.changes)) {
    const { from, to } = stepOf(dates, change);
    const key = `${from}→${to}`;
    let patch: ChangeEvent["patch"] = [];
    if (from !== null && !patched.has(key)) {
      patched.add(key);
      patch = versionPatch(await documentOf(from), await documentOf(to), options.written) as ChangeEvent["patch"];
    }
    const touched =
      options.touchedOf?.(change) ??
      touchedAudiences(content, change, from === null ? [] : (entriesOn.get(from) ?? []), entriesOn.get(to) ?? []);
    events.push({
      id: change.id,
      kind: change.kind,
      aspects: change.aspects ?? [],
      announced: change.announced,
      effective: change.effective,
      subprocessors: [...change.subprocessors].sort(),
      from,
      to,
      ...touched,
      html: {
        da: abs(baseUrl, annexCPaths.change("da", change.id)),
        en: abs(baseUrl, annexCPaths.change("en", change.id)),
      },
      patch,
    });
  }
  const first = dates[0];
  return {
    $schema: abs(baseUrl, schemaPath(CHANGE_EVENTS_FORMAT)),
    format: CHANGE_EVENTS_FORMAT,
    first: first ? { date: first, json: abs(baseUrl, annexCPaths.json(first)) } : null,
    events,
  };
}
