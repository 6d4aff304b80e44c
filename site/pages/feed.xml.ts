import type { APIRoute } from "astro";
import { Feed } from "feed";
import { changeKindLabel, formatDate } from "../../domain/labels.ts";
import { annexCPaths } from "../../domain/machine.ts";
import { href } from "../i18n.ts";
import { newestFirst } from "../lib/changes.ts";
import { loadContent } from "../lib/content.ts";

/**
 * /feed.xml: Atom, one entry per change. Each entry is in English and links to the English notice page; its
 * content also carries the Danish summary with a link to the Danish page, so one feed serves both languages.
 */
export const GET: APIRoute = async ({ site }) => {
  const base = site ?? new URL("http://127.0.0.1:8787");
  const abs = (path: string) => new URL(path, base).href;
  const { vendor, changes } = await loadContent();
  const ordered = newestFirst(changes);
  const latest =
    ordered
      .map((c) => c.announced)
      .sort()
      .at(-1) ?? "1970-01-01";
  const feed = new Feed({
    title: `${vendor.name}: sub-processor changes`,
    description: `Changes to the list of sub-processors of ${vendor.legalEntity} (Annex C of the data processing agreement)`,
    id: abs("/feed.xml"),
    link: abs(href("en")),
    language: "en",
    updated: new Date(`${latest}T00:00:00Z`),
    generator: false,
    copyright: vendor.legalEntity,
    feedLinks: { atom: abs("/feed.xml") },
    author: { name: vendor.legalEntity, email: vendor.privacyContact },
  });
  for (const c of ordered) {
    const en = abs(href("en", "changes", c.id));
    const da = abs(href("da", "changes", c.id));
    feed.addItem({
      title: `${changeKindLabel(c.kind, "en")}: ${c.summary.en}`,
      id: en,
      link: en,
      date: new Date(`${c.announced}T00:00:00Z`),
      published: new Date(`${c.announced}T00:00:00Z`),
      description: `${c.summary.en} Takes effect ${formatDate(c.effective, "en")}.`,
      content: [
        `<p>${escapeHtml(c.summary.en)}</p>`,
        `<p>Announced ${formatDate(c.announced, "en")}; takes effect ${formatDate(c.effective, "en")}.</p>`,
        `<p lang="da">${escapeHtml(c.summary.da)} <a href="${da}">Læs på dansk</a></p>`,
      ].join(""),
    });
  }
  // Each entry also links its typed event and the permanent JSON of the version it brings (README "Machine-readable
  // data"). The feed library writes one link per entry, so the two are added after its own.
  let xml = feed.atom1();
  for (const c of ordered) {
    const own = `<link href="${abs(href("en", "changes", c.id))}"/>`;
    const related = [
      [`${abs(annexCPaths.changes)}#${c.id}`, "Change event"],
      [abs(annexCPaths.json(c.effective)), "Annex C version (JSON)"],
    ].map(([url, title]) => `<link rel="related" type="application/json" href="${url}" title="${title}"/>`);
    xml = xml.replace(own, [own, ...related].join(""));
  }
  return new Response(xml, { headers: { "Content-Type": "application/atom+xml; charset=utf-8" } });
};

function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
