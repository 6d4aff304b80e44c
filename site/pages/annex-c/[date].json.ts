import type { APIRoute, GetStaticPaths } from "astro";
import { versionDatesOf } from "../../lib/annex.ts";
import { loadContent } from "../../lib/content.ts";
import { baseUrlOf, documentsOf, jsonResponse } from "../../lib/machine.ts";

/** /annex-c/<date>.json: one version for every customer, with its fingerprint. Only version dates are built. */
export const getStaticPaths = (async () => {
  return versionDatesOf(await loadContent()).map((date) => ({ params: { date } }));
}) satisfies GetStaticPaths;

export const GET: APIRoute = async ({ params, site }) => {
  const content = await loadContent();
  return jsonResponse(await documentsOf(content, baseUrlOf(site))(params.date as string), true);
};
