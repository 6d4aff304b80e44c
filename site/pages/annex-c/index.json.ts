import type { APIRoute } from "astro";
import { TODAY } from "../../../content-io/today.ts";
import { catalogue } from "../../../domain/machine.ts";
import { loadContent } from "../../lib/content.ts";
import { baseUrlOf, documentsOf, jsonResponse } from "../../lib/machine.ts";

/** /annex-c/index.json: the catalogue of every version, its fingerprint and files (README "Machine-readable data"). */
export const GET: APIRoute = async ({ site }) => {
  const content = await loadContent();
  const baseUrl = baseUrlOf(site);
  return jsonResponse(await catalogue(content, { baseUrl, today: TODAY, documentOf: documentsOf(content, baseUrl) }));
};
