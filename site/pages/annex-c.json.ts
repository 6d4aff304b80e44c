import type { APIRoute } from "astro";
import { annexCDocument } from "../../domain/annex.ts";
import { loadContent } from "../lib/content.ts";

/**
 * /annex-c.json: exactly the domain's document. The worker reads it to decide whether a notice is due (DESIGN.md
 * "Annex C"), so the site adds nothing and reformats nothing: the fingerprint inside covers `snapshot`.
 */
export const GET: APIRoute = async () => {
  const doc = await annexCDocument(await loadContent());
  return new Response(JSON.stringify(doc), { headers: { "Content-Type": "application/json; charset=utf-8" } });
};
