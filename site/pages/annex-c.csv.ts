import type { APIRoute } from "astro";
import { publishedSnapshot } from "../../domain/annex.ts";
import { loadContent } from "../lib/content.ts";
import { annexCsv } from "../lib/csv.ts";

/** /annex-c.csv: the published Annex C (same entries as /annex-c.json), one row per entry and location. */
export const GET: APIRoute = async () => {
  const content = await loadContent();
  const csv = annexCsv(publishedSnapshot(content).entries, content.vendor);
  return new Response(csv, { headers: { "Content-Type": "text/csv; charset=utf-8" } });
};
