import type { z } from "zod";
import { stateOn } from "./annex.ts";
import { type Content, dpaVersionsFrom } from "./content.ts";
import { isInEEA } from "./countries.ts";
import { daysBetween } from "./dates.ts";
import { Change } from "./schema/change.ts";
import { DpaVersion } from "./schema/dpa.ts";
import type { Entity, Location } from "./schema/subprocessor.ts";
import { SubProcessor, type SubProcessorState } from "./schema/subprocessor.ts";
import { Vendor } from "./schema/vendor.ts";
import {
  mechanismMismatch,
  mechanismValidity,
  originProblem,
  periodProblem,
  sccModuleProblem,
  type TransferLaw,
} from "./transfer.ts";

/**
 * The named rules a content error can break. Each error says which file, which field and which rule, so a
 * member of staff can fix it without reading code.
 */
export const RULES = {
  schema: "The field does not have the expected form",
  "missing-translation": "Every text must be given in Danish (da) and English (en)",
  "iso-country-code": "Countries are ISO 3166-1 alpha-2 codes",
  "id-matches-file": "An id must equal its file or folder name",
  "duplicate-id": "Ids must be unique",
  "unknown-reference": "A reference must name something that exists",
  "notice-period":
    "DPA 5.2: a new sub-processor, also one further down the chain, may start no earlier than the notice period after the notice",
  "entity-replaced-notice":
    "DPA 5.2: a new contracting legal entity is a new sub-processor and needs the notice period of an addition",
  "unconfirmed-contact":
    "EDPB Opinion 22/2024: a production build needs real, confirmed contact data (address and contact point) for the vendor and every processor in the chain",
  "transfer-mechanism-required": "GDPR Chapter V: a location outside the EEA needs a transfer mechanism",
  "transfer-mechanism-invalid": "The transfer mechanism must fit the country and be valid on every day it is relied on",
  "mechanism-expired":
    "A transfer mechanism may not be relied on after its end date (EU adequacy for the UK: renewed 19 December 2025, until 27 December 2031)",
  "mechanism-origin":
    "The EU-US DPF (from 10 July 2023), its UK Extension (from 12 October 2023) and the Swiss-US DPF (from 15 September 2024) each cover only data exported under their own law",
  "uk-transfer-instrument":
    "UK GDPR Art. 46: the UK IDTA and the UK Addendum carry only UK customers' data, and UK customers' data under the SCCs needs the Addendum",
  "scc-module":
    "Implementing Decision (EU) 2021/914: a sub-processor of the processor receives data processor to processor, SCC module 3; other modules are refused",
  "bcr-affiliate": "GDPR Arts. 4(20) and 47: Binding Corporate Rules only cover transfers within a corporate group",
  "privacy-shield": "The EU-US Privacy Shield has been invalid since 16 July 2020 (CJEU C-311/18, Schrems II)",
  "unexplained-change": "Every change to Annex C needs a change entry with the same effective date",
  "change-without-effect": "A change entry must match a step in the sub-processor's timeline",
  "change-kind": "A change entry's kind and aspects must match what the timeline does",
  "dpa-overlap": "DPA versions must not overlap in time",
  "dpa-current": "Exactly one DPA version must be in force",
} as const;
export type Rule = keyof typeof RULES;

export interface ContentError {
  file: string;
  /** Dotted path to the field inside the file, e.g. `timeline.1.locations.0.transfer.mechanism`. */
  field: string;
  rule: Rule;
  message: string;
}

/** A content file as read from disk: its path relative to the repository and its parsed data (YAML or frontmatter). */
export interface RawFile {
  path: string;
  data: unknown;
}

export interface RawContent {
  vendor: RawFile;
  subprocessors: RawFile[];
  changes: RawFile[];
  dpa: RawFile[];
}

export function formatError(e: ContentError): string {
  return `${e.file}: ${e.field || "(file)"}: [${e.rule}] ${e.message}`;
}

function baseName(path: string): string {
  return (
    path
      .split("/")
      .at(-1)
      ?.replace(/\.(mdx|md|ya?ml)$/, "") ?? path
  );
}

function folderName(path: string): string {
  return path.split("/").at(-2) ?? "";
}

function zodErrors(file: string, error: z.ZodError): ContentError[] {
  return error.issues.map((issue) => {
    const field = issue.path.join(".");
    const last = issue.path.at(-1);
    let rule: Rule = "schema";
    if ((last === "da" || last === "en") && (issue.code === "invalid_type" || issue.code === "too_small")) {
      rule = "missing-translation";
    } else if (last === "country") rule = "iso-country-code";
    const message =
      rule === "missing-translation"
        ? `the ${last === "da" ? "Danish (da)" : "English (en)"} text is missing`
        : issue.code === "unrecognized_keys"
          ? `unknown field(s): ${issue.keys.join(", ")}`
          : issue.message;
    return { file, field, rule, message };
  });
}

function parse<T>(schema: z.ZodType<T>, file: RawFile, errors: ContentError[]): T | undefined {
  const result = schema.safeParse(file.data ?? {});
  if (result.success) return result.data;
  errors.push(...zodErrors(file.path, result.error));
  return undefined;
}

export interface ValidateOptions {
  /** Finds the DPA version in force and judges open-ended transfer mechanisms with an end date. */
  today: string;
  /** A production build: unconfirmed-contact findings are errors instead of warnings. */
  production?: boolean;
}

/**
 * Checks all content against the schemas and the rules in README.md. Pure: the caller reads the files and
 * passes `today`. Warnings (unconfirmed-contact outside a production build) never stop a build.
 */
export function validateContent(
  raw: RawContent,
  options: ValidateOptions,
): { content?: Content; errors: ContentError[]; warnings: ContentError[] } {
  const errors: ContentError[] = [];
  const warnings: ContentError[] = [];
  const vendor = parse(Vendor, raw.vendor, errors);

  const subprocessors: { file: string; sp: SubProcessor }[] = [];
  for (const file of raw.subprocessors) {
    const sp = parse(SubProcessor, file, errors);
    if (!sp) continue;
    if (sp.id !== baseName(file.path)) {
      errors.push({
        file: file.path,
        field: "id",
        rule: "id-matches-file",
        message: `id "${sp.id}" must equal the file name "${baseName(file.path)}"`,
      });
    }
    subprocessors.push({ file: file.path, sp });
  }
  const changes: { file: string; change: Change }[] = [];
  for (const file of raw.changes) {
    const change = parse(Change, file, errors);
    if (!change) continue;
    if (change.id !== baseName(file.path)) {
      errors.push({
        file: file.path,
        field: "id",
        rule: "id-matches-file",
        message: `id "${change.id}" must equal the file name "${baseName(file.path)}"`,
      });
    }
    changes.push({ file: file.path, change });
  }
  const dpa: { file: string; version: DpaVersion }[] = [];
  for (const file of raw.dpa) {
    const version = parse(DpaVersion, file, errors);
    if (!version) continue;
    if (version.version !== folderName(file.path)) {
      errors.push({
        file: file.path,
        field: "version",
        rule: "id-matches-file",
        message: `version "${version.version}" must equal the folder name "${folderName(file.path)}"`,
      });
    }
    if (version.locale !== baseName(file.path)) {
      errors.push({
        file: file.path,
        field: "locale",
        rule: "id-matches-file",
        message: `locale "${version.locale}" must equal the file name "${baseName(file.path)}"`,
      });
    }
    dpa.push({ file: file.path, version });
  }

  duplicates(
    subprocessors.map((s) => [s.file, s.sp.id]),
    errors,
  );
  duplicates(
    changes.map((c) => [c.file, c.change.id]),
    errors,
  );

  if (vendor) {
    for (const { file, sp } of subprocessors) checkSubProcessor(file, sp, vendor, options.today, errors);
    checkChangeLog(subprocessors, changes, vendor, new Set(dpa.map((d) => d.version.version)), errors);
    checkDpa(dpa, vendor, options.today, errors);
    checkContacts(raw.vendor.path, vendor, subprocessors, options.today, options.production ? errors : warnings);
  }

  if (!vendor || errors.length > 0) return { errors, warnings };
  return {
    errors,
    warnings,
    content: {
      vendor,
      subprocessors: subprocessors.map((s) => s.sp).sort((a, b) => a.id.localeCompare(b.id)),
      changes: changes
        .map((c) => c.change)
        .sort((a, b) => a.effective.localeCompare(b.effective) || a.id.localeCompare(b.id)),
      dpaVersions: dpaVersionsFrom(dpa.map((d) => d.version)),
    },
  };
}

function duplicates(items: [string, string][], errors: ContentError[]): void {
  const seen = new Map<string, string>();
  for (const [file, id] of items) {
    const first = seen.get(id);
    if (first) errors.push({ file, field: "id", rule: "duplicate-id", message: `id "${id}" is also used by ${first}` });
    else seen.set(id, file);
  }
}

function checkSubProcessor(
  file: string,
  sp: SubProcessor,
  vendor: Vendor,
  today: string,
  errors: ContentError[],
): void {
  sp.timeline.forEach((step, i) => {
    if (step.removed) return;
    const at = `timeline.${i}`;
    for (const [key, vocabulary] of [
      ["services", vendor.services],
      ["dataCategories", vendor.dataCategories],
    ] as const) {
      step[key]?.forEach((id, j) => {
        if (!(id in vocabulary)) {
          errors.push({
            file,
            field: `${at}.${key}.${j}`,
            rule: "unknown-reference",
            message: `"${id}" is not listed under ${key} in content/vendor.yaml`,
          });
        }
      });
    }
    // A location is relied on from this step until the next step that replaces the list it is in (or removes the entry).
    const until = (key: "locations" | "subprocessors") =>
      sp.timeline.slice(i + 1).find((s) => s.removed || key in s)?.from;
    const period = { from: step.from, until: until("locations"), today };
    step.locations?.forEach((location, j) => {
      checkLocation(
        file,
        `${at}.locations.${j}`,
        location,
        { ...period, relationship: sp.relationship },
        vendor,
        errors,
      );
    });
    step.subprocessors?.forEach((entry, k) => {
      entry.locations.forEach((location, j) => {
        const field = `${at}.subprocessors.${k}.locations.${j}`;
        const chainPeriod = { from: step.from, until: until("subprocessors"), today };
        checkLocation(file, field, location, { ...chainPeriod, relationship: entry.relationship }, vendor, errors);
      });
    });
  });
}

/** The laws of every region a location serves: its rules' regions, or every region when a rule names none. */
function lawsServed(location: Location, vendor: Vendor): Set<TransferLaw> {
  const law = new Map(vendor.regions.map((r) => [r.id, r.law]));
  const all = vendor.regions.map((r) => r.id);
  const ids = location.appliesTo ? location.appliesTo.flatMap((rule) => rule.regions ?? all) : all;
  return new Set(ids.map((id) => law.get(id)).filter((l) => l !== undefined));
}

/** One location of a sub-processor or of one of its own sub-processors: references and GDPR Chapter V. */
function checkLocation(
  file: string,
  lf: string,
  location: Location,
  listed: { from: string; until: string | undefined; today: string; relationship: SubProcessor["relationship"] },
  vendor: Vendor,
  errors: ContentError[],
): void {
  const regions = new Set(vendor.regions.map((r) => r.id));
  const cohorts = new Set(vendor.cohorts.map((c) => c.id));
  location.appliesTo?.forEach((rule, k) => {
    rule.regions?.forEach((r, m) => {
      if (!regions.has(r))
        errors.push({
          file,
          field: `${lf}.appliesTo.${k}.regions.${m}`,
          rule: "unknown-reference",
          message: `region "${r}" is not defined in content/vendor.yaml`,
        });
    });
    rule.cohorts?.forEach((c, m) => {
      if (!cohorts.has(c))
        errors.push({
          file,
          field: `${lf}.appliesTo.${k}.cohorts.${m}`,
          rule: "unknown-reference",
          message: `cohort "${c}" is not defined in content/vendor.yaml`,
        });
    });
  });
  if (isInEEA(location.country)) return;
  const transfer = location.transfer;
  if (!transfer) {
    errors.push({
      file,
      field: `${lf}.transfer`,
      rule: "transfer-mechanism-required",
      message: `${location.country} is outside the EEA, so the location needs a transfer mechanism (GDPR Chapter V: adequacy, eu-us-dpf, uk-us-dpf, swiss-us-dpf, scc-2021, uk-idta or bcr)`,
    });
    return;
  }
  const field = `${lf}.transfer.mechanism`;
  if (transfer.mechanism === "privacy-shield") {
    errors.push({
      file,
      field,
      rule: "privacy-shield",
      message:
        "the EU-US Privacy Shield was invalidated by the CJEU on 16 July 2020 (C-311/18, Schrems II) and cannot be relied on; use eu-us-dpf for a certified recipient or scc-2021",
    });
    return;
  }
  const mismatch = mechanismMismatch(location.country, transfer);
  if (mismatch) {
    errors.push({ file, field, rule: "transfer-mechanism-invalid", message: mismatch });
    return;
  }
  const module = sccModuleProblem(transfer);
  if (module) errors.push({ file, field: `${lf}.transfer.sccModule`, rule: "scc-module", message: module });
  if (transfer.mechanism === "bcr" && listed.relationship !== "affiliate") {
    errors.push({
      file,
      field,
      rule: "bcr-affiliate",
      message:
        "Binding Corporate Rules only cover transfers within one corporate group (GDPR Arts. 4(20) and 47), and this processor is a third party; use scc-2021 module 3 or another mechanism",
    });
  }
  const origin = originProblem(transfer, lawsServed(location, vendor));
  if (origin) {
    const originField =
      origin.rule === "uk-transfer-instrument" && transfer.mechanism === "scc-2021"
        ? `${lf}.transfer.ukAddendum`
        : field;
    errors.push({ file, field: originField, rule: origin.rule, message: origin.message });
  }
  const validity = mechanismValidity(location.country, transfer);
  const problem = validity && periodProblem(validity, listed.from, listed.until, listed.today);
  if (validity && problem) {
    const period = validity.validUntil
      ? `${validity.validFrom} to ${validity.validUntil}`
      : `from ${validity.validFrom}`;
    const span = listed.until ? `until ${listed.until}` : `with no end date (checked on ${listed.today})`;
    errors.push({
      file,
      field,
      rule: problem === "expired" ? "mechanism-expired" : "transfer-mechanism-invalid",
      message: `${transfer.mechanism} is only valid ${period} (${validity.source}) but this location is listed from ${listed.from} ${span}${problem === "expired" ? "; end the listing by then or rely on another mechanism" : ""}`,
    });
  }
}

type Aspect = NonNullable<Change["aspects"]>[number];

function changedAspects(before: SubProcessorState, after: SubProcessorState): Set<Aspect> {
  const aspects = new Set<Aspect>();
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  if (!same(before.name, after.name)) aspects.add("name");
  if (!same(before.entity, after.entity)) aspects.add("entity");
  if (!same(before.purpose, after.purpose)) aspects.add("purpose");
  if (!same(before.services, after.services)) aspects.add("services");
  if (!same(before.dataCategories, after.dataCategories)) aspects.add("dataCategories");
  if (!same(before.subprocessors ?? [], after.subprocessors ?? [])) aspects.add("subprocessors");
  // A new or dropped location is a location change; "transfer" means the same location under another mechanism.
  const key = (l: SubProcessorState["locations"][number]) => JSON.stringify([l.country, l.city, l.appliesTo, l.note]);
  const beforeKeys = new Map(before.locations.map((l) => [key(l), l]));
  const afterKeys = new Map(after.locations.map((l) => [key(l), l]));
  if (!same([...beforeKeys.keys()].sort(), [...afterKeys.keys()].sort())) aspects.add("locations");
  for (const [k, l] of afterKeys) {
    const prev = beforeKeys.get(k);
    if (prev && !same(prev.transfer, l.transfer)) aspects.add("transfer");
  }
  return aspects;
}

function checkChangeLog(
  subprocessors: { file: string; sp: SubProcessor }[],
  changes: { file: string; change: Change }[],
  vendor: Vendor,
  dpaVersions: Set<string>,
  errors: ContentError[],
): void {
  const byId = new Map(subprocessors.map((s) => [s.sp.id, s]));
  for (const { file, change } of changes) {
    if (change.dpaVersion && !dpaVersions.has(change.dpaVersion)) {
      errors.push({
        file,
        field: "dpaVersion",
        rule: "unknown-reference",
        message: `there is no DPA version "${change.dpaVersion}" under content/dpa/`,
      });
    }
    if (change.kind === "added") {
      const days = daysBetween(change.announced, change.effective);
      if (days < vendor.noticePeriodDays) {
        errors.push({
          file,
          field: "effective",
          rule: "notice-period",
          message: `a new sub-processor needs ${vendor.noticePeriodDays} days' written notice (DPA 5.2), but only ${days} days separate announced ${change.announced} and effective ${change.effective}`,
        });
      }
    }
    change.subprocessors.forEach((id, i) => {
      const entry = byId.get(id);
      if (!entry) {
        errors.push({
          file,
          field: `subprocessors.${i}`,
          rule: "unknown-reference",
          message: `there is no sub-processor "${id}" in content/subprocessors/`,
        });
        return;
      }
      const stepIndex = entry.sp.timeline.findIndex((s) => s.from === change.effective);
      if (stepIndex < 0) {
        errors.push({
          file,
          field: `subprocessors.${i}`,
          rule: "change-without-effect",
          message: `${entry.file} has no timeline step from ${change.effective}, so this change would not alter Annex C`,
        });
        return;
      }
      const step = entry.sp.timeline[stepIndex];
      const before = stepIndex > 0 ? stateOn(entry.sp, entry.sp.timeline[stepIndex - 1]?.from ?? "")?.state : undefined;
      const after = stateOn(entry.sp, change.effective)?.state;
      const actual = !before && after ? "added" : before && !after ? "removed" : "changed";
      if (step?.removed && change.kind !== "removed") {
        errors.push({
          file,
          field: "kind",
          rule: "change-kind",
          message: `${id} is removed on ${change.effective}, so kind must be removed`,
        });
      } else if (actual !== change.kind) {
        errors.push({
          file,
          field: "kind",
          rule: "change-kind",
          message: `${id} is ${actual} on ${change.effective} according to ${entry.file}, but this entry says ${change.kind}`,
        });
      } else if (actual === "changed" && before && after) {
        checkAdditionsInChange(file, id, change, before, after, vendor, errors);
        const aspects = changedAspects(before, after);
        const declared = new Set(change.aspects ?? []);
        const missing = [...aspects].filter((a) => !declared.has(a));
        if (missing.length > 0) {
          errors.push({
            file,
            field: "aspects",
            rule: "change-kind",
            message: `${id} also changes ${missing.join(", ")} on ${change.effective}; list every aspect that changes`,
          });
        }
      }
    });
  }
  for (const { file, sp } of subprocessors) {
    sp.timeline.forEach((step, i) => {
      const explained = changes.some((c) => c.change.effective === step.from && c.change.subprocessors.includes(sp.id));
      if (!explained) {
        errors.push({
          file,
          field: `timeline.${i}.from`,
          rule: "unexplained-change",
          message: `Annex C changes for ${sp.id} on ${step.from} but no file in content/changes/ has effective ${step.from} and names ${sp.id}`,
        });
      }
    });
  }
}

/**
 * Parts of a `changed` entry that DPA 5.2 treats as engaging a new sub-processor, so they need the notice period of an
 * addition: another contracting legal entity, and a new sub-processor down the chain (EDPB Opinion 22/2024).
 */
function checkAdditionsInChange(
  file: string,
  id: string,
  change: Change,
  before: SubProcessorState,
  after: SubProcessorState,
  vendor: Vendor,
  errors: ContentError[],
): void {
  const days = daysBetween(change.announced, change.effective);
  if (days >= vendor.noticePeriodDays) return;
  const notice = `${vendor.noticePeriodDays} days' written notice (DPA 5.2), but only ${days} days separate announced ${change.announced} and effective ${change.effective}`;
  if (replacesEntity(before.entity, after.entity)) {
    errors.push({
      file,
      field: "effective",
      rule: "entity-replaced-notice",
      message: `${id} changes its contracting legal entity from "${before.entity.name}" to "${after.entity.name}": a new legal entity is a new sub-processor and needs ${notice}. If the same company was only renamed, give its unchanged registration number in both timeline steps`,
    });
  }
  const known = new Set((before.subprocessors ?? []).map((e) => e.entity.name));
  for (const entry of after.subprocessors ?? []) {
    if (known.has(entry.entity.name)) continue;
    errors.push({
      file,
      field: "effective",
      rule: "notice-period",
      message: `${id} engages its own sub-processor ${entry.name} (${entry.entity.name}): a new processor down the chain is announced like a new sub-processor and needs ${notice}`,
    });
  }
}

/** Another legal entity, not the same one renamed: a registration number given in both states and unchanged says so. */
function replacesEntity(before: Entity, after: Entity): boolean {
  if (before.registration !== undefined && before.registration === after.registration) return false;
  return before.name !== after.name || before.registration !== after.registration;
}

/** RFC 2606 and RFC 6761 reserve these names for documentation and tests: an address on them reaches nobody. */
export function isPlaceholderAddress(value: string): boolean {
  let host = value.includes("@") ? (value.split("@").at(-1) ?? "") : value;
  try {
    if (!value.includes("@")) host = new URL(value).hostname;
  } catch {
    return false;
  }
  const h = host.toLowerCase().replace(/\.$/, "");
  return /(^|\.)(example|test|invalid|localhost)$/.test(h) || /(^|\.)example\.(com|net|org)$/.test(h);
}

const PLACEHOLDER_TEXT = /to be confirmed|placeholder|\btbc\b|\btbd\b/i;

/**
 * The vendor's privacy mailbox and every processor's address and contact point in the list as it stands today and as
 * announced (EDPB Opinion 22/2024: the controller must have them for the whole chain). Placeholders, missing addresses
 * and fields flagged `unconfirmed` are reported; the caller decides whether they are errors (production) or warnings.
 */
function checkContacts(
  vendorFile: string,
  vendor: Vendor,
  subprocessors: { file: string; sp: SubProcessor }[],
  today: string,
  out: ContentError[],
): void {
  const rule = "unconfirmed-contact";
  const tail = "(a production build, PORTAL_BUILD=production as the deploy workflow sets, refuses it)";
  if (isPlaceholderAddress(vendor.privacyContact)) {
    out.push({
      file: vendorFile,
      field: "privacyContact",
      rule,
      message: `${vendor.privacyContact} is on a domain reserved for examples (RFC 2606) and reaches nobody; customers send objections here (DPA 5.3). Put the real privacy mailbox here ${tail}`,
    });
  }
  const contact = (file: string, field: string, who: string, c: SubProcessor["contact"], flagged: boolean) => {
    for (const value of [c.email, c.url]) {
      if (value && isPlaceholderAddress(value)) {
        out.push({
          file,
          field,
          rule,
          message: `${who}: ${value} is a placeholder (RFC 2606 reserved domain) ${tail}`,
        });
      }
    }
    if (flagged) {
      out.push({
        file,
        field,
        rule,
        message: `${who}: the contact point is marked unconfirmed (not stated in the DPA); confirm it and remove it from unconfirmed ${tail}`,
      });
    }
  };
  const entity = (file: string, field: string, who: string, e: Entity) => {
    const problem = !e.address
      ? "no address is given"
      : e.unconfirmed?.includes("address")
        ? "the address is marked unconfirmed (not stated in the DPA)"
        : PLACEHOLDER_TEXT.test(e.address.street)
          ? `the address "${e.address.street}" is a placeholder`
          : undefined;
    if (problem) out.push({ file, field: `${field}.address`, rule, message: `${who} (${e.name}): ${problem} ${tail}` });
  };
  for (const { file, sp } of subprocessors) {
    // A step describes a processor someone relies on when it is in force today or announced for later. A field
    // keeps the value of the last step that gave it, so the entity (or chain) in force may come from an older step.
    const current = sp.timeline.reduce((found, step, i) => (step.from <= today ? i : found), 0);
    const lastGiven = (key: "entity" | "subprocessors") =>
      sp.timeline.reduce((found, step, i) => (i <= current && key in step ? i : found), -1);
    const relied = (key: "entity" | "subprocessors", i: number) => i > current || i === lastGiven(key);
    if (sp.timeline.slice(current).every((step) => step.removed)) continue;
    contact(file, "contact", sp.id, sp.contact, sp.unconfirmed?.includes("contact") ?? false);
    sp.timeline.forEach((step, i) => {
      if (step.entity && relied("entity", i)) entity(file, `timeline.${i}.entity`, sp.id, step.entity);
      if (!relied("subprocessors", i)) return;
      step.subprocessors?.forEach((entry, k) => {
        const at = `timeline.${i}.subprocessors.${k}`;
        const who = `${sp.id} → ${entry.name}`;
        contact(file, `${at}.contact`, who, entry.contact, entry.unconfirmed?.includes("contact") ?? false);
        entity(file, `${at}.entity`, who, entry.entity);
      });
    });
  }
}

function checkDpa(
  dpa: { file: string; version: DpaVersion }[],
  vendor: Vendor,
  today: string,
  errors: ContentError[],
): void {
  const byVersion = new Map<string, { file: string; version: DpaVersion }[]>();
  for (const d of dpa) byVersion.set(d.version.version, [...(byVersion.get(d.version.version) ?? []), d]);
  for (const [version, files] of byVersion) {
    for (const locale of vendor.locales) {
      if (!files.some((f) => f.version.locale === locale)) {
        errors.push({
          file: `content/dpa/${version}/${locale}.mdx`,
          field: "",
          rule: "missing-translation",
          message: `DPA version ${version} has no ${locale} text`,
        });
      }
    }
    const first = files[0];
    for (const f of files.slice(1)) {
      if (
        first &&
        (f.version.effectiveFrom !== first.version.effectiveFrom ||
          f.version.effectiveUntil !== first.version.effectiveUntil)
      ) {
        errors.push({
          file: f.file,
          field: "effectiveFrom",
          rule: "dpa-overlap",
          message: `the ${f.version.locale} and ${first.version.locale} texts of DPA ${version} give different effective dates`,
        });
      }
    }
  }
  const versions = [...byVersion.values()]
    .map((files) => files[0])
    .filter((f) => f !== undefined)
    .sort((a, b) => a.version.effectiveFrom.localeCompare(b.version.effectiveFrom));
  for (let i = 1; i < versions.length; i++) {
    const prev = versions[i - 1];
    const next = versions[i];
    if (!prev || !next) continue;
    const prevEnd = prev.version.effectiveUntil;
    if (
      prev.version.effectiveFrom === next.version.effectiveFrom ||
      (prevEnd !== undefined && prevEnd >= next.version.effectiveFrom)
    ) {
      errors.push({
        file: next.file,
        field: "effectiveFrom",
        rule: "dpa-overlap",
        message: `DPA ${next.version.version} starts ${next.version.effectiveFrom} while DPA ${prev.version.version} is still in force (${prev.version.effectiveFrom} – ${prevEnd ?? "open"})`,
      });
    }
  }
  if (
    versions.length > 0 &&
    !versions.some(
      (v) => v.version.effectiveFrom <= today && (!v.version.effectiveUntil || v.version.effectiveUntil >= today),
    )
  ) {
    errors.push({
      file: "content/dpa/",
      field: "effectiveFrom",
      rule: "dpa-current",
      message: `no DPA version is in force on ${today}`,
    });
  }
}
