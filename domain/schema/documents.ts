import { z } from "zod";
import { CHANGE_ASPECTS, Change } from "./change.ts";
import { HttpsUrl, IsoDate, Localized, Slug } from "./common.ts";
import { Entity, Location, SubProcessor, SubProcessorState } from "./subprocessor.ts";

// The JSON documents the portal serves, as zod schemas: the site and the worker build them, and /schema/ publishes
// them as JSON Schema (draft 2020-12) generated from these (domain/json-schema.ts). Each document names its format
// ("annex-c/1") and its schema ($schema); a structural change to a document needs a new format number, because a
// consumer pinned to /schema/annex-c-1.json must keep validating (tests/unit/json-schema.test.ts holds the snapshots).

export const ANNEX_C_FORMAT = "annex-c/1";
export const CATALOGUE_FORMAT = "annex-c-index/1";
export const CHANGE_EVENTS_FORMAT = "changes/1";
export const PUBLICATIONS_FORMAT = "publications/1";

/** Where the JSON Schema of a format is served: "annex-c/1" → "/schema/annex-c-1.json". */
export function schemaPath(format: string): string {
  return `/schema/${format.replace("/", "-")}.json`;
}

const SchemaRef = z.string().min(1).describe("URL of the JSON Schema this document follows (under /schema/)");
const Fingerprint = z
  .string()
  .regex(/^[0-9a-f]{64}$/)
  .describe("SHA-256 (lower-case hex) of the canonical JSON of `snapshot`: keys sorted, no whitespace");
const Url = z.string().min(1).describe("Address on the portal");

const Named = z.object({ id: Slug, name: Localized }).strict();

export const AnnexCEntrySchema = z
  .object({
    id: Slug,
    name: z.string().min(1),
    relationship: SubProcessor.shape.relationship,
    website: HttpsUrl,
    contact: SubProcessor.shape.contact,
    entity: Entity,
    purpose: Localized,
    services: z.array(Slug),
    dataCategories: z.array(Slug),
    locations: z.array(Location),
    subprocessors: SubProcessorState.shape.subprocessors,
    subprocessorList: SubProcessor.shape.subprocessorList,
    unconfirmed: SubProcessor.shape.unconfirmed,
    since: IsoDate.describe("Effective date of the entry's current state; a date after `on` marks a pending entry"),
  })
  .strict()
  .describe("One sub-processor as it stands, with the locations that apply to the audience");

export const AnnexCDocumentSchema = z
  .object({
    $schema: SchemaRef,
    format: z.literal(ANNEX_C_FORMAT),
    fingerprint: Fingerprint,
    on: IsoDate.describe("The date the list is resolved for"),
    audience: z
      .object({ region: Slug, cohort: Slug })
      .strict()
      .optional()
      .describe("Present when the list is for one customer region and cohort only"),
    vendor: z.object({ name: z.string(), legalEntity: z.string(), registration: z.string() }).strict(),
    snapshot: z
      .object({
        entries: z.array(AnnexCEntrySchema),
        dpaVersions: z.array(z.object({ version: Slug, effectiveFrom: IsoDate }).strict()),
      })
      .strict()
      .describe("What the fingerprint covers"),
    regions: z.array(Named),
    cohorts: z.array(Named),
    changes: z
      .array(Change)
      .describe("In /annex-c.json the whole change log; in a version's own file the changes that took effect on `on`"),
  })
  .strict()
  .describe("Annex C (the list of sub-processors) of the data processing agreement");

const VersionLinks = { json: Url, fingerprint: Fingerprint };

export const CatalogueSchema = z
  .object({
    $schema: SchemaRef,
    format: z.literal(CATALOGUE_FORMAT),
    vendor: z.object({ name: z.string(), legalEntity: z.string(), registration: z.string() }).strict(),
    builtOn: IsoDate.describe("The day (Copenhagen) this catalogue was built"),
    inForce: IsoDate.nullable().describe("The version in force on `builtOn`; null before the first"),
    published: z
      .object({ on: IsoDate, ...VersionLinks })
      .strict()
      .describe("The published list: as it stands once every announced change is in effect (what notices carry)"),
    regions: z.array(Named),
    cohorts: z.array(Named),
    changes: Url.describe("The change events (/changes.json)"),
    calendar: Url.describe("All effective dates and objection deadlines (iCalendar)"),
    versions: z
      .array(
        z
          .object({
            date: IsoDate,
            ...VersionLinks,
            csv: Url,
            html: Localized.describe("The version's page in each language"),
            audiences: z.array(z.object({ region: Slug, cohort: Slug, ...VersionLinks }).strict()),
          })
          .strict(),
      )
      .describe("Every version, oldest first; a version's files never change once its date has passed"),
  })
  .strict()
  .describe("Catalogue of every Annex C version with its fingerprint and where to fetch it");

const JsonPointer = z.string().describe("JSON Pointer (RFC 6901)");
export const PatchOperation = z.discriminatedUnion("op", [
  z.object({ op: z.enum(["add", "replace", "test"]), path: JsonPointer, value: z.unknown() }).strict(),
  z.object({ op: z.literal("remove"), path: JsonPointer }).strict(),
  z.object({ op: z.enum(["move", "copy"]), from: JsonPointer, path: JsonPointer }).strict(),
]);

export const ChangeEventSchema = z
  .object({
    id: Slug.describe("The change's id (its page: /<locale>/changes/<id>/)"),
    kind: z.enum(["added", "removed", "changed"]),
    aspects: z.array(z.enum(CHANGE_ASPECTS)).describe("For kind changed, what changes; empty otherwise"),
    announced: IsoDate,
    effective: IsoDate,
    subprocessors: z.array(Slug),
    from: IsoDate.nullable().describe("The version this change moves from; null for the first version"),
    to: IsoDate.describe("The version it moves to (its effective date)"),
    regions: z.array(Slug).describe("Customer regions whose Annex C this change touches"),
    cohorts: z.array(Slug).describe("Customer cohorts whose Annex C this change touches"),
    html: Localized.describe("The change's page in each language"),
    patch: z
      .array(PatchOperation)
      .describe(
        "RFC 6902 JSON Patch from the `from` version's JSON to the `to` version's JSON. Changes taking effect on the same day share one step: the first of them (in list order) carries the patch, the others an empty one, so applying every patch in order walks from the first version to the last",
      ),
  })
  .strict();

export const ChangeEventsSchema = z
  .object({
    $schema: SchemaRef,
    format: z.literal(CHANGE_EVENTS_FORMAT),
    first: z
      .object({ date: IsoDate, json: Url })
      .strict()
      .nullable()
      .describe("The first version: the patches start from its JSON"),
    events: z.array(ChangeEventSchema).describe("One event per change, in order of effective date, then id"),
  })
  .strict()
  .describe("Typed change events with JSON Patches between Annex C versions");

export const PublicationsSchema = z
  .object({
    $schema: SchemaRef,
    format: z.literal(PUBLICATIONS_FORMAT),
    publications: z.array(
      z
        .object({
          id: z.number().int().min(1),
          fingerprint: Fingerprint,
          previousFingerprint: Fingerprint.nullable(),
          publishedAt: z.string().describe("ISO 8601 instant"),
          recipientCount: z.number().int().min(0),
          baseline: z.boolean().describe("The first record of a deployment: nobody was notified"),
        })
        .strict(),
    ),
  })
  .strict()
  .describe("The public hash chain of publications (each names the fingerprint it replaced)");

/** Every served format and its schema: /schema/ publishes exactly these. */
export const DOCUMENT_SCHEMAS = {
  [ANNEX_C_FORMAT]: AnnexCDocumentSchema,
  [CATALOGUE_FORMAT]: CatalogueSchema,
  [CHANGE_EVENTS_FORMAT]: ChangeEventsSchema,
  [PUBLICATIONS_FORMAT]: PublicationsSchema,
} as const;
export type DocumentFormat = keyof typeof DOCUMENT_SCHEMAS;

export type AnnexCDocumentData = z.infer<typeof AnnexCDocumentSchema>;
export type Catalogue = z.infer<typeof CatalogueSchema>;
export type ChangeEvent = z.infer<typeof ChangeEventSchema>;
export type ChangeEvents = z.infer<typeof ChangeEventsSchema>;
export type Publications = z.infer<typeof PublicationsSchema>;
