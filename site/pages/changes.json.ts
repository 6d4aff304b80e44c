import type { APIRoute } from "astro";
import { changeEvents } from "../../domain/machine.ts";
import type { Change } from "../../domain/schema/change.ts";
import { annexOn, touchedBy } from "../lib/annex.ts";
import { loadContent } from "../lib/content.ts";
import { baseUrlOf, documentsOf, jsonResponse, writtenTexts } from "../lib/machine.ts";

/** /changes.json: one typed event per change, with the RFC 6902 patch between the versions it moves. */
export const GET: APIRoute = async ({ site }) => {
  const content = await loadContent();
  const baseUrl = baseUrlOf(site);
  const entriesOf = (on: string) => annexOn(content, on).entries;
  const touchedOf = (change: Change) => touchedBy(content, change);
  return jsonResponse(
    await changeEvents(content, {
      baseUrl,
      documentOf: documentsOf(content, baseUrl),
      entriesOf,
      touchedOf,
      written: writtenTexts,
    }),
  );
};
