import type { APIRoute } from "astro";
import { annexCDocument } from "../../domain/annex.ts";
import { loadContent } from "../lib/content.ts";
import { baseUrlOf } from "../lib/machine.ts";

/**
 * /annex-c.json: exactly the domain's document. The worker reads it to decide whether a notice is due (README
 * "How notices and objections work"), so the site adds nothing and reformats nothing: the fingerprint inside covers `snapshot`.
 */
export const GET: APIRoute = async ({ site }) => {
  const doc = await annexCDocument(await loadContent(), { baseUrl: baseUrlOf(site) });
  return new Response(JSON.stringify(doc), { headers: { "Content-Type": "application/json; charset=utf-8" } });
};
