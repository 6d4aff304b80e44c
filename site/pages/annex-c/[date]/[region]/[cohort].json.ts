import type { APIRoute, GetStaticPaths } from "astro";
import { audiences } from "../../../../../domain/machine.ts";
import { versionDatesOf } from "../../../../lib/annex.ts";
import { loadContent } from "../../../../lib/content.ts";
import { baseUrlOf, documentsOf, jsonResponse } from "../../../../lib/machine.ts";

/**
 * /annex-c/<date>/<region>/<cohort>.json: one version as one customer audience sees it, with its own fingerprint.
 * Built for every version date and every region and cohort of vendor.yaml; anything else is not built and gets the
 * site's 404 page.
 */
export const getStaticPaths = (async () => {
  const content = await loadContent();
  return versionDatesOf(content).flatMap((date) =>
    audiences(content.vendor).map(({ region, cohort }) => ({ params: { date, region, cohort } })),
  );
}) satisfies GetStaticPaths;

export const GET: APIRoute = async ({ params, site }) => {
  const content = await loadContent();
  const audience = { region: params.region as string, cohort: params.cohort as string };
  return jsonResponse(await documentsOf(content, baseUrlOf(site))(params.date as string, audience), true);
};
