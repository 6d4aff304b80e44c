import { z } from "zod";
import { DOCUMENT_SCHEMAS, type DocumentFormat, schemaPath } from "./schema/documents.ts";

/**
 * The JSON Schema (draft 2020-12) of a served document, generated from its zod schema so the two cannot drift.
 * `$id` is the schema's own address on the portal (`baseUrl` + /schema/<format>.json). Checks zod cannot express in
 * JSON Schema (a real calendar date, an assigned country code) are left out rather than failing the generation: the
 * schema then accepts slightly more than the portal ever writes, never less.
 */
export function jsonSchemaOf(format: DocumentFormat, baseUrl: string): Record<string, unknown> {
  const generated = z.toJSONSchema(DOCUMENT_SCHEMAS[format], {
    target: "draft-2020-12",
    io: "output",
    unrepresentable: "any",
  }) as Record<string, unknown>;
  const { $schema, ...rest } = generated;
  return { $schema, $id: new URL(schemaPath(format), baseUrl).href, title: format, ...rest };
}

export const DOCUMENT_FORMATS = Object.keys(DOCUMENT_SCHEMAS) as DocumentFormat[];
