import type { APIRoute, GetStaticPaths } from "astro";
import { calendarFile, calendarResponse } from "../../lib/calendar.ts";
import { loadContent } from "../../lib/content.ts";
import { baseUrlOf } from "../../lib/machine.ts";

/** /calendar/<region>.ics: the dates of the changes that touch one region's Annex C; one per region of vendor.yaml. */
export const getStaticPaths = (async () => {
  const { vendor } = await loadContent();
  return vendor.regions.map((r) => ({ params: { region: r.id } }));
}) satisfies GetStaticPaths;

export const GET: APIRoute = async ({ params, site }) =>
  calendarResponse(calendarFile(await loadContent(), baseUrlOf(site), params.region as string));
