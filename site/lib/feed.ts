import { Feed } from "feed";
import { changeKindLabel, formatDate } from "../../domain/labels.ts";
import { annexCPaths } from "../../domain/machine.ts";
import type { Change } from "../../domain/schema/change.ts";
import type { Vendor } from "../../domain/schema/vendor.ts";
import { escapeHtml } from "../../emails/message.ts";
import { href, t } from "../../i18n/index.ts";
import { newestFirst } from "./changes.ts";

/**
 * The Atom feed of changes: one entry per change, in English, linking to the English notice page; its content also
 * carries the Danish summary with a link to the Danish page, so one feed serves both languages.
 *
 * The `feed` library writes every entry's title, summary and content as `type="html"` (RFC 4287 §3.1.1.2: the reader
 * parses the text as HTML). Summaries are plain text written by staff, so each one is HTML-escaped before it goes in:
 * a `<b>` or `<script>` in a summary reaches the reader as those characters, not as markup (and a `]]>` cannot end the
 * CDATA section early).
 */
export function changesFeed(
  vendor: Pick<Vendor, "name" | "legalEntity" | "privacyContact">,
  changes: Change[],
  base: URL,
): string {
  const abs = (path: string) => new URL(path, base).href;
  const en = t("en").feed;
  const ordered = newestFirst(changes);
  const latest =
    ordered
      .map((c) => c.announced)
      .sort()
      .at(-1) ?? "1970-01-01";
  const feed = new Feed({
    title: en.title(vendor.name),
    description: en.description(vendor.legalEntity),
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
    const enPage = abs(href("en", "changes", c.id));
    const daPage = abs(href("da", "changes", c.id));
    feed.addItem({
      title: escapeHtml(`${changeKindLabel(c.kind, "en")}: ${c.summary.en}`),
      id: enPage,
      link: enPage,
      date: new Date(`${c.announced}T00:00:00Z`),
      published: new Date(`${c.announced}T00:00:00Z`),
      description: escapeHtml(`${c.summary.en} ${en.takesEffect(formatDate(c.effective, "en"))}`),
      content: [
        `<p>${escapeHtml(c.summary.en)}</p>`,
        `<p>${escapeHtml(en.announced(formatDate(c.announced, "en"), formatDate(c.effective, "en")))}</p>`,
        `<p lang="da">${escapeHtml(c.summary.da)} <a href="${escapeHtml(daPage)}">${escapeHtml(t("da").feed.readHere)}</a></p>`,
      ].join(""),
    });
  }
  // Each entry also links its typed event and the permanent JSON of the version it brings (README "Machine-readable
  // data"). The feed library writes one link per entry, so the two are added after its own, in one pass over the
  // document (a replace per entry rescanned the whole feed each time: 2,000 entries took 3 s in the build benchmark).
  const related = new Map(
    ordered.map((c) => [
      abs(href("en", "changes", c.id)),
      [
        [`${abs(annexCPaths.changes)}#${c.id}`, en.changeEvent],
        [abs(annexCPaths.json(c.effective)), en.versionJson],
      ]
        .map(([url, title]) => `<link rel="related" type="application/json" href="${url}" title="${title}"/>`)
        .join(""),
    ]),
  );
  return feed.atom1().replace(/<link href="([^"]*)"\/>/g, (own, url: string) => own + (related.get(url) ?? ""));
}
