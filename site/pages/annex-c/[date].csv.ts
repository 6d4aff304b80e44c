import type { APIRoute, GetStaticPaths } from "astro";
import { annexOn, versionDatesOf } from "../../lib/annex.ts";
import { loadContent } from "../../lib/content.ts";
import { annexCsv } from "../../lib/csv.ts";

/** /annex-c/<date>.csv: the same entries as /annex-c/<date>.json, one row per sub-processor and location. */
export const getStaticPaths = (async () => {
  return versionDatesOf(await loadContent()).map((date) => ({ params: { date } }));
}) satisfies GetStaticPaths;

export const GET: APIRoute = async ({ params }) => {
  const content = await loadContent();
  const csv = annexCsv(annexOn(content, params.date as string).entries, content.vendor);
  return new Response(csv, { headers: { "Content-Type": "text/csv; charset=utf-8" } });
};
