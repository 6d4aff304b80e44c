import type { APIRoute, GetStaticPaths } from "astro";
import { DOCUMENT_FORMATS, jsonSchemaOf } from "../../../domain/json-schema.ts";
import { type DocumentFormat, schemaPath } from "../../../domain/schema/documents.ts";
import { baseUrlOf, jsonResponse } from "../../lib/machine.ts";

/** /schema/<format>-<n>.json: the JSON Schema (draft 2020-12) of every JSON document the portal serves. */
export const getStaticPaths = (() =>
  DOCUMENT_FORMATS.map((format) => ({
    params: { name: schemaPath(format).replace(/^\/schema\/|\.json$/g, "") },
    props: { format },
  }))) satisfies GetStaticPaths;

export const GET: APIRoute = ({ props, site }) =>
  jsonResponse(jsonSchemaOf((props as { format: DocumentFormat }).format, baseUrlOf(site)));
