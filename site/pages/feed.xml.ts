import type { APIRoute } from "astro";
import { loadContent } from "../lib/content.ts";
import { changesFeed } from "../lib/feed.ts";

/** /feed.xml: Atom, one entry per change (site/lib/feed.ts). */
export const GET: APIRoute = async ({ site }) => {
  const { vendor, changes } = await loadContent();
  const xml = changesFeed(vendor, changes, site ?? new URL("http://127.0.0.1:8787"));
  return new Response(xml, { headers: { "Content-Type": "application/atom+xml; charset=utf-8" } });
};
