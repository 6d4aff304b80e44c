import { canonicalJson, sha256Hex } from "./canonical.ts";
import type { Content, DpaVersionInfo } from "./content.ts";
import type { Change } from "./schema/change.ts";
import type { IsoDate, Localized } from "./schema/common.ts";
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

export const ANNEX_C_FORMAT = "annex-c/1";

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
  for (const entry of entries) {
    const locations = entry.locations.filter((l) => appliesTo(l.appliesTo, audience));
    if (locations.length === 0) continue;
    const chain = entry.subprocessors
      ?.map((c) => ({ ...c, locations: c.locations.filter((l) => appliesTo(l.appliesTo, audience)) }))
      .filter((c) => c.locations.length > 0);
    out.push({ ...entry, locations, ...(chain ? { subprocessors: chain.length > 0 ? chain : undefined } : {}) });
  }
  return out;
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

export function fingerprint(snapshot: AnnexCSnapshot): Promise<string> {
  return sha256Hex(canonicalJson(snapshot));
}

/** The document served as /annex-c.json: the worker's input, and what a customer can verify by hand. */
export interface AnnexCDocument {
  format: typeof ANNEX_C_FORMAT;
  /** SHA-256 (hex) of the canonical JSON of `snapshot`. */
  fingerprint: string;
  vendor: { name: string; legalEntity: string; registration: string };
  snapshot: AnnexCSnapshot;
  regions: { id: string; name: Localized }[];
  cohorts: { id: string; name: Localized }[];
  changes: Change[];
}

export async function annexCDocument(content: Content): Promise<AnnexCDocument> {
  const snapshot = publishedSnapshot(content);
  const { vendor } = content;
  return {
    format: ANNEX_C_FORMAT,
    fingerprint: await fingerprint(snapshot),
    vendor: {
      name: vendor.name,
      legalEntity: vendor.legalEntity,
      registration: `${vendor.registration.label} ${vendor.registration.number}`,
    },
    snapshot,
    regions: vendor.regions.map(({ id, name }) => ({ id, name })),
    cohorts: vendor.cohorts.map(({ id, name }) => ({ id, name })),
    changes: [...content.changes].sort((a, b) => a.effective.localeCompare(b.effective) || a.id.localeCompare(b.id)),
  };
}
