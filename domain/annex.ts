import { canonicalJson, type ReadonlyWeakMap, sha256Hex } from "./canonical.ts";
import type { Content, DpaVersionInfo } from "./content.ts";
import type { Change } from "./schema/change.ts";
import type { IsoDate, Localized } from "./schema/common.ts";
import { ANNEX_C_FORMAT, type AnnexCDocumentData, schemaPath } from "./schema/documents.ts";
import type {
  Applicability,
  ChainEntry,
  Entity,
  Location,
  SubProcessor,
  SubProcessorState,
} from "./schema/subprocessor.ts";

/** A customer's point of view: their data-centre region and contract cohort. Absent = every customer. */
export interface Audience {
  region?: string | undefined;
  /** Several regions: a location applies when it applies to any of them (subscribers may pick more than one). */
  regions?: readonly string[] | undefined;
  cohort?: string | undefined;
}

/** One row of Annex C: a sub-processor as it stands, with the locations that apply to the audience. */
export interface AnnexCEntry {
  id: string;
  name: string;
  relationship: SubProcessor["relationship"];
  website: string;
  contact: SubProcessor["contact"];
  entity: Entity;
  purpose: Localized;
  services: string[];
  dataCategories: string[];
  locations: Location[];
  /** Its own sub-processors (EDPB Opinion 22/2024), with the locations that apply to the audience. */
  subprocessors?: ChainEntry[];
  /** Its own published list of sub-processors, and when staff last checked it. */
  subprocessorList?: SubProcessor["subprocessorList"];
  /** Top-level fields (website, contact) the DPA does not state: shown as "not stated in the DPA". */
  unconfirmed?: SubProcessor["unconfirmed"];
  /** Effective date of the entry's current state: a date after today marks a pending entry. */
  since: IsoDate;
}

export interface AnnexC {
  /** The date the list was resolved for. */
  on: IsoDate;
  audience: Audience;
  entries: AnnexCEntry[];
}

/** The part of /annex-c.json that the fingerprint covers. */
export interface AnnexCSnapshot {
  entries: AnnexCEntry[];
  dpaVersions: { version: string; effectiveFrom: IsoDate }[];
}

export { ANNEX_C_FORMAT };

/** Sub-processor state on `on`: the timeline steps up to that date folded together, or undefined if not listed. */
export function stateOn(sp: SubProcessor, on: IsoDate): { state: SubProcessorState; since: IsoDate } | undefined {
  let state: Partial<SubProcessorState> | undefined;
  let since: IsoDate | undefined;
  for (const step of sp.timeline) {
    if (step.from > on) break;
    since = step.from;
    if (step.removed) {
      state = undefined;
      continue;
    }
    const { from: _from, ...fields } = step;
    // A field present but undefined (possible in data built in code, never in YAML) changes nothing: it must not
    // blank the field it would replace (tests/unit/validate.fuzz.test.ts).
    const given = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
    state = { ...(state ?? {}), ...given };
  }
  if (!state || since === undefined) return undefined;
  return { state: state as SubProcessorState, since };
}

export function appliesTo(rules: Applicability[] | undefined, audience: Audience): boolean {
  if (!rules) return true;
  const regions = audience.regions ?? (audience.region ? [audience.region] : undefined);
  return rules.some(
    (rule) =>
      (!regions || !rule.regions || rule.regions.some((r) => regions.includes(r))) &&
      (!audience.cohort || !rule.cohorts || rule.cohorts.includes(audience.cohort)),
  );
}

function locationKey(l: Location): string {
  return `${l.country}|${l.city ?? ""}|${canonicalJson(l.appliesTo ?? null)}`;
}

/**
 * `appliesTo` is a set of rules, each over sets of regions and cohorts: the order staff happen to write them in carries
 * no meaning, so it is normalised here. Otherwise reordering `regions: [ca, eea]` would change the fingerprint and
 * send every subscriber a notice about nothing (tests/unit/domain.property.test.ts, fingerprint stability).
 */
function normaliseAppliesTo(location: Location): Location {
  if (!location.appliesTo) return location;
  const rules = location.appliesTo.map((rule) => ({
    ...rule,
    ...(rule.regions ? { regions: [...rule.regions].sort() } : {}),
    ...(rule.cohorts ? { cohorts: [...rule.cohorts].sort() } : {}),
  }));
  rules.sort((a, b) => canonicalJson(a).localeCompare(canonicalJson(b)));
  return { ...location, appliesTo: rules };
}

function sortLocations(locations: Location[]): Location[] {
  return locations.map(normaliseAppliesTo).sort((a, b) => locationKey(a).localeCompare(locationKey(b)));
}

/**
 * Keeps the locations that apply to the audience; an entry with none left does not apply at all. The same goes for
 * the entry's own sub-processors: a customer sees the part of the chain that processes its data.
 */
export function filterEntries(entries: AnnexCEntry[], audience: Audience): AnnexCEntry[] {
  const out: AnnexCEntry[] = [];
  let same = true;
  for (const entry of entries) {
    const locations = entry.locations.filter((l) => appliesTo(l.appliesTo, audience));
    same &&= locations.length === entry.locations.length;
    if (locations.length === 0) continue;
    const whole = (c: ChainEntry) => c.locations.every((l) => appliesTo(l.appliesTo, audience));
    // An entry the audience sees whole stays the same object, so canonical texts written for it are reused (the
    // build writes each version once for every customer and once per region and cohort).
    if (locations.length === entry.locations.length && (entry.subprocessors ?? []).every(whole)) {
      out.push(entry);
      continue;
    }
    same = false;
    const chain = entry.subprocessors
      ?.map((c) => ({ ...c, locations: c.locations.filter((l) => appliesTo(l.appliesTo, audience)) }))
      .filter((c) => c.locations.length > 0);
    out.push({ ...entry, locations, ...(chain ? { subprocessors: chain.length > 0 ? chain : undefined } : {}) });
  }
  // A list the audience sees whole is the same list, so a text written for it is reused too (nothing changes a
  // resolved list afterwards).
  return same ? entries : out;
}

function sortChain(chain: ChainEntry[] | undefined): ChainEntry[] | undefined {
  if (!chain) return undefined;
  return chain
    .map((c) => ({ ...c, locations: sortLocations(c.locations) }))
    .sort((a, b) => a.entity.name.localeCompare(b.entity.name) || a.name.localeCompare(b.name));
}

/** Annex C on a date, optionally for one customer region and cohort. Never written by hand: always derived. */
export function resolveAnnexC(content: Pick<Content, "subprocessors">, options: { on: IsoDate } & Audience): AnnexC {
  const { on, ...audience } = options;
  const entries: AnnexCEntry[] = [];
  for (const sp of content.subprocessors) {
    const resolved = stateOn(sp, on);
    if (!resolved) continue;
    const { state, since } = resolved;
    entries.push({
      id: sp.id,
      name: state.name,
      relationship: sp.relationship,
      website: sp.website,
      contact: sp.contact,
      entity: state.entity,
      purpose: state.purpose,
      services: [...state.services].sort(),
      dataCategories: [...state.dataCategories].sort(),
      locations: sortLocations(state.locations),
      // Absent rather than undefined keys would be the same in canonical JSON; spread keeps the object tidy for JSON.
      ...(state.subprocessors ? { subprocessors: sortChain(state.subprocessors) } : {}),
      ...(sp.subprocessorList ? { subprocessorList: sp.subprocessorList } : {}),
      ...(sp.unconfirmed ? { unconfirmed: [...sp.unconfirmed].sort() } : {}),
      since,
    });
  }
  entries.sort((a, b) => a.id.localeCompare(b.id));
  return { on, audience, entries: filterEntries(entries, audience) };
}

/** Every date on which Annex C changed, oldest first: one permanent version per date. */
export function versionDates(content: Pick<Content, "subprocessors">): IsoDate[] {
  const dates = new Set<IsoDate>();
  for (const sp of content.subprocessors) for (const step of sp.timeline) dates.add(step.from);
  return [...dates].sort();
}

/**
 * The date once every announced change is in effect. The published Annex C is resolved for this date, so a
 * change announced today alters the published list (and its fingerprint) today, 30 days before it takes effect.
 */
export function horizon(content: Pick<Content, "subprocessors">): IsoDate {
  return versionDates(content).at(-1) ?? "1970-01-01";
}

export function publishedSnapshot(content: Pick<Content, "subprocessors" | "dpaVersions">): AnnexCSnapshot {
  return {
    entries: resolveAnnexC(content, { on: horizon(content) }).entries,
    dpaVersions: content.dpaVersions.map((v: DpaVersionInfo) => ({
      version: v.version,
      effectiveFrom: v.effectiveFrom,
    })),
  };
}

/** `written`: texts already written, for a build that hashes the same entries many times (domain/canonical.ts). */
export function fingerprint(snapshot: AnnexCSnapshot, written?: ReadonlyWeakMap<object, string>): Promise<string> {
  return sha256Hex(canonicalJson(snapshot, written));
}

/**
 * The document served as /annex-c.json (the worker's input, and what a customer can verify by hand) and, for one
 * version date, as /annex-c/<date>.json. The fingerprint covers `snapshot` only.
 */
export type AnnexCDocument = Omit<AnnexCDocumentData, "$schema" | "on"> &
  // Optional in the type only: documents recorded by the worker before they were added lack them.
  Partial<Pick<AnnexCDocumentData, "$schema" | "on">>;

/** The customer region and cohort a per-audience document is resolved for. */
export interface VersionAudience {
  region: string;
  cohort: string;
}

export interface DocumentOptions {
  /** The portal's address, for `$schema`; without it `$schema` is the path alone (a relative reference). */
  baseUrl?: string | undefined;
  /** Canonical texts of some of the entries, to reuse while hashing (domain/canonical.ts `written`). */
  written?: ReadonlyWeakMap<object, string> | undefined;
  /** `fingerprint`, from a caller that hashes the same snapshot for several audiences and remembers the answers. */
  fingerprintOf?: ((snapshot: AnnexCSnapshot) => Promise<string>) | undefined;
}

function schemaUrl(baseUrl: string | undefined): string {
  const path = schemaPath(ANNEX_C_FORMAT);
  return baseUrl ? new URL(path, baseUrl).href : path;
}

async function document(
  content: Content,
  on: IsoDate,
  snapshot: AnnexCSnapshot,
  changes: Change[],
  options: DocumentOptions & { audience?: VersionAudience | undefined },
): Promise<AnnexCDocumentData> {
  const { vendor } = content;
  return {
    $schema: schemaUrl(options.baseUrl),
    format: ANNEX_C_FORMAT,
    fingerprint: await (options.fingerprintOf?.(snapshot) ?? fingerprint(snapshot, options.written)),
    on,
    ...(options.audience ? { audience: { region: options.audience.region, cohort: options.audience.cohort } } : {}),
    vendor: {
      name: vendor.name,
      legalEntity: vendor.legalEntity,
      registration: `${vendor.registration.label} ${vendor.registration.number}`,
    },
    snapshot,
    regions: vendor.regions.map(({ id, name }) => ({ id, name })),
    cohorts: vendor.cohorts.map(({ id, name }) => ({ id, name })),
    changes: [...changes].sort((a, b) => a.effective.localeCompare(b.effective) || a.id.localeCompare(b.id)),
  };
}

export function annexCDocument(content: Content, options: DocumentOptions = {}): Promise<AnnexCDocumentData> {
  return document(content, horizon(content), publishedSnapshot(content), content.changes, options);
}

/**
 * Annex C as it stood on a version date, for every customer or for one region and cohort: /annex-c/<date>.json and
 * /annex-c/<date>/<region>/<cohort>.json. Everything in it is decided by content dated on or before `on` (the entries
 * then, the DPA versions started by then, the changes that took effect that day), so adding a later change never
 * alters it: a version's file is permanent once built (tests/unit/machine-build.test.ts compares two builds' bytes).
 * It carries only its own day's changes, not the whole log: a vendor with 2,000 changes would otherwise repeat the
 * log in every version and audience file (hundreds of megabytes); the log is /changes.json.
 */
export function annexCVersionDocument(
  content: Content,
  on: IsoDate,
  options: DocumentOptions & {
    audience?: VersionAudience | undefined;
    /** Annex C on `on` for every customer, when the caller has it already: the audience's rows are taken from it. */
    entries?: AnnexCEntry[] | undefined;
  } = {},
): Promise<AnnexCDocumentData> {
  const all = options.entries ?? resolveAnnexC(content, { on }).entries;
  const snapshot: AnnexCSnapshot = {
    entries: options.audience ? filterEntries(all, options.audience) : all,
    dpaVersions: content.dpaVersions
      .filter((v) => v.effectiveFrom <= on)
      .map((v) => ({ version: v.version, effectiveFrom: v.effectiveFrom })),
  };
  return document(
    content,
    on,
    snapshot,
    content.changes.filter((c) => c.effective === on),
    options,
  );
}
