// What a merge would publish, seen from a pull request: the notice planner (domain/notice.ts) and the email renderer
// (emails/notice.ts) are the very modules the worker runs, so the preview shows the words subscribers will get.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { type AnnexCDocument, annexCDocument } from "../../domain/annex.ts";
import { objectionDeadline } from "../../domain/calendar.ts";
import type { Content } from "../../domain/content.ts";
import { copenhagenDate, daysBetween } from "../../domain/dates.ts";
import { isEmptyDiff } from "../../domain/diff.ts";
import {
  buildNotice,
  NOTICE_TOPICS,
  type Notice,
  type NoticeSubscriber,
  type NoticeTopic,
  noticeFor,
} from "../../domain/notice.ts";
import type { Locale } from "../../domain/schema/common.ts";
import type { RenderedEmail } from "../../emails/message.ts";
import { changeSentences, renderNotice } from "../../emails/notice.ts";

/** Subscribers with the same preferences, counted (never addresses): the input of the audience breakdown. */
export interface SubscriberGroup {
  locale: Locale;
  topics: NoticeTopic[];
  /** Regions followed; empty = every region. */
  regions: string[];
  count: number;
}

export interface Audience {
  /** Where the counts come from, in words ("subscriber-count file x.json", "local D1 …"). */
  source: string;
  /** Undefined when nothing is available: the breakdown is then printed with "n/a" counts. */
  groups?: SubscriberGroup[];
  /** Why there are no counts. */
  reason?: string;
}

export interface PreviewEmail {
  locale: Locale;
  /** Region id, or "all" for a subscriber who follows every region. */
  region: string;
  email: RenderedEmail;
}

export interface Preview {
  kind: "baseline" | "unchanged" | "publish";
  previousFingerprint: string | null;
  fingerprint: string;
  markdown: string;
  emails: PreviewEmail[];
}

export interface PreviewOptions {
  baseLabel: string;
  audience: Audience;
  baseUrl: string;
  /** When the notice is assumed to be received: the objection deadline (DPA 5.3) is counted from it. */
  now: Date;
}

/** Links in preview emails point at the real pages but carry no token: a reviewer cannot act on anyone's behalf. */
export function previewLinks(baseUrl: string, locale: Locale) {
  const base = baseUrl.replace(/\/+$/, "");
  const q = "token=PREVIEW";
  return {
    object: `${base}/${locale}/subscription/object/preview?${q}`,
    manage: `${base}/${locale}/subscription/manage?${q}`,
    unsubscribe: `${base}/${locale}/subscription/unsubscribe?${q}`,
    oneClickUnsubscribe: `${base}/api/subscriptions/unsubscribe?${q}`,
  };
}

function subscriber(locale: Locale, topics: readonly NoticeTopic[], regions: readonly string[]): NoticeSubscriber {
  return { id: "preview", locale, topics, regions };
}

function regionName(content: Content, id: string): string {
  if (id === "all") return "every region";
  return content.vendor.regions.find((r) => r.id === id)?.name.en ?? id;
}

function cell(s: string): string {
  return s.replaceAll("|", "\\|").replaceAll("\n", " ");
}

interface BreakdownRow {
  topic: NoticeTopic;
  region: string;
  locale: Locale;
  count: number | undefined;
}

/**
 * Who would be told, by topic, region and locale. With counts: every group the notice concerns adds its count to each
 * topic it is told about and each region it follows ("all" for subscribers who follow every region). Without counts:
 * the combinations that would be told, each with an unknown count.
 */
export function audienceBreakdown(
  notice: Notice,
  content: Content,
  audience: Audience,
): { rows: BreakdownRow[]; notified?: number; notConcerned?: number } {
  const regions = ["all", ...content.vendor.regions.map((r) => r.id)];
  const locales = content.vendor.locales;
  if (!audience.groups) {
    const rows: BreakdownRow[] = [];
    for (const topic of NOTICE_TOPICS) {
      for (const region of regions) {
        for (const locale of locales) {
          const personal = noticeFor(notice, subscriber(locale, [topic], region === "all" ? [] : [region]));
          if (personal) rows.push({ topic, region, locale, count: undefined });
        }
      }
    }
    return { rows };
  }
  const counts = new Map<string, BreakdownRow>();
  let notified = 0;
  let notConcerned = 0;
  for (const group of audience.groups) {
    const personal = noticeFor(notice, subscriber(group.locale, group.topics, group.regions));
    if (!personal) {
      notConcerned += group.count;
      continue;
    }
    notified += group.count;
    for (const topic of personal.topics) {
      for (const region of group.regions.length > 0 ? group.regions : ["all"]) {
        const key = `${topic}|${region}|${group.locale}`;
        const row = counts.get(key) ?? { topic, region, locale: group.locale, count: 0 };
        row.count = (row.count ?? 0) + group.count;
        counts.set(key, row);
      }
    }
  }
  const order = (r: BreakdownRow) =>
    `${NOTICE_TOPICS.indexOf(r.topic)}|${String(regions.indexOf(r.region)).padStart(3, "0")}|${r.locale}`;
  return { rows: [...counts.values()].sort((a, b) => order(a).localeCompare(order(b))), notified, notConcerned };
}

/** The preview of a merge: `base` is the content of the branch merged into (undefined: nothing published yet). */
export async function previewNotice(
  base: Content | undefined,
  head: Content,
  options: PreviewOptions,
): Promise<Preview> {
  const after = await annexCDocument(head);
  const lines: string[] = [`## Notice preview against \`${options.baseLabel}\``, ""];
  if (!base) {
    lines.push(
      `The base has no content, so this is the first publication. After a fresh deploy the first publication records a baseline (fingerprint \`${after.fingerprint}\`) and **mails nobody**.`,
    );
    return {
      kind: "baseline",
      previousFingerprint: null,
      fingerprint: after.fingerprint,
      markdown: `${lines.join("\n")}\n`,
      emails: [],
    };
  }
  const before: AnnexCDocument = await annexCDocument(base);
  lines.push(`Fingerprint (SHA-256 of the canonical published Annex C):`, "");
  lines.push(`- before: \`${before.fingerprint}\``, `- after:  \`${after.fingerprint}\``, "");
  if (before.fingerprint === after.fingerprint) {
    lines.push("The published Annex C is unchanged: merging this sends **no notice**.");
    return {
      kind: "unchanged",
      previousFingerprint: before.fingerprint,
      fingerprint: after.fingerprint,
      markdown: `${lines.join("\n")}\n`,
      emails: [],
    };
  }
  const notice = buildNotice(before, after, {
    publicationId: "preview",
    sequence: 0,
    publishedAt: options.now.toISOString(),
  });

  // What changes, for everyone, in the notice's own words (English and Danish).
  const everyone = (locale: Locale) => noticeFor(notice, subscriber(locale, NOTICE_TOPICS, []));
  for (const locale of head.vendor.locales) {
    const personal = everyone(locale);
    lines.push(`### What changes (${locale}, all regions)`, "");
    if (!personal) {
      lines.push("_Nothing that a subscriber is told about._", "");
      continue;
    }
    for (const sentence of changeSentences(personal.diff, personal, locale, head.vendor)) lines.push(`- ${sentence}`);
    for (const c of personal.changes) lines.push(`  - ${c.summary[locale]} (${c.effective})`);
    lines.push("");
  }

  // The two dates a reviewer checks: when it takes effect (DPA 5.2) and the objection deadline (DPA 5.3).
  const first = everyone("en")?.effectiveFrom;
  const received = copenhagenDate(options.now);
  const deadline = objectionDeadline(options.now, head.vendor.workingDayCalendar, head.vendor.objectionWorkingDays);
  lines.push(
    "### Dates",
    "",
    ...(first
      ? [
          `- Takes effect: **${first}** (${daysBetween(received, first)} days after a notice delivered ${received}; a new sub-processor needs ${head.vendor.noticePeriodDays}, DPA 5.2).`,
        ]
      : []),
    `- Objection deadline for a notice delivered ${received}: **${deadline}** (${head.vendor.objectionWorkingDays} Danish working days, DPA 5.3); each subscriber's deadline counts from their own delivery.`,
    "",
  );

  const regionDiffs = head.vendor.regions.map((r) => {
    const personal = noticeFor(notice, subscriber("en", ["subprocessors"], [r.id]));
    return { region: r.id, sentences: personal ? changeSentences(personal.diff, personal, "en", head.vendor) : [] };
  });
  lines.push("### By region (en)", "", "| region | what subscribers following it are told |", "|---|---|");
  for (const { region, sentences } of regionDiffs) {
    lines.push(
      `| ${cell(regionName(head, region))} | ${sentences.length > 0 ? cell(sentences.join(" ")) : "nothing (not concerned)"} |`,
    );
  }
  lines.push("");

  // Who would be told.
  const breakdown = audienceBreakdown(notice, head, options.audience);
  lines.push("### Who would be notified", "");
  if (options.audience.groups) {
    lines.push(
      `Confirmed subscribers from ${options.audience.source}: **${breakdown.notified}** notified, ${breakdown.notConcerned} not concerned (topic or region). A subscriber who follows several regions is counted under each.`,
      "",
    );
  } else {
    lines.push(
      `Counts: n/a — ${options.audience.reason ?? "no subscriber counts available"}. The table lists every topic, region and locale that would be notified.`,
      "",
    );
  }
  lines.push("| topic | region | locale | subscribers |", "|---|---|---|---|");
  for (const row of breakdown.rows) {
    lines.push(
      `| ${row.topic} | ${cell(regionName(head, row.region))} | ${row.locale} | ${row.count === undefined ? "n/a" : row.count} |`,
    );
  }
  if (breakdown.rows.length === 0) lines.push("| – | – | – | 0 |");
  lines.push("");

  // The emails themselves: one per locale × region, rendered by the worker's renderer.
  const emails: PreviewEmail[] = [];
  for (const locale of head.vendor.locales) {
    for (const region of ["all", ...head.vendor.regions.map((r) => r.id)]) {
      const personal = noticeFor(notice, subscriber(locale, NOTICE_TOPICS, region === "all" ? [] : [region]));
      if (!personal) continue;
      emails.push({
        locale,
        region,
        email: renderNotice({
          notice,
          personal,
          vendor: head.vendor,
          baseUrl: options.baseUrl,
          deadline,
          links: previewLinks(options.baseUrl, locale),
        }),
      });
    }
  }
  const dpaOnly = isEmptyDiff(everyone("en")?.diff ?? { added: [], removed: [], changed: [] });
  lines.push(
    `### Emails (${emails.length})`,
    "",
    `Rendered by the worker's notice renderer for a subscriber to every topic${dpaOnly ? " (this publication only concerns the DPA)" : ""}, one per locale and region, as if received ${options.now.toISOString().slice(0, 10)} (the objection deadline counts from receipt). Links carry no token; the publication number is assigned when the notice is published.`,
    "",
    "| file | subject |",
    "|---|---|",
    ...emails.map((e) => `| \`${e.locale}-${e.region}.html\` / \`.txt\` | ${cell(e.email.subject)} |`),
    "",
  );
  return {
    kind: "publish",
    previousFingerprint: before.fingerprint,
    fingerprint: after.fingerprint,
    markdown: `${lines.join("\n")}\n`,
    emails,
  };
}

/** Reads a subscriber-count file: `[{locale, topics, regions, count?}]` or `{groups: [...]}`. Addresses are ignored. */
export function parseSubscriberCounts(json: unknown): SubscriberGroup[] {
  const list = Array.isArray(json) ? json : (json as { groups?: unknown } | null)?.groups;
  if (!Array.isArray(list)) throw new Error("expected an array of {locale, topics, regions, count} or {groups: [...]}");
  return list.map((item, i) => {
    const g = item as Partial<Record<keyof SubscriberGroup, unknown>>;
    const topics = Array.isArray(g.topics) ? g.topics : [...NOTICE_TOPICS];
    const regions = Array.isArray(g.regions) ? g.regions : [];
    const count = g.count === undefined ? 1 : g.count;
    if (g.locale !== "da" && g.locale !== "en") throw new Error(`group ${i}: locale must be da or en`);
    if (!topics.every((t): t is NoticeTopic => (NOTICE_TOPICS as readonly unknown[]).includes(t))) {
      throw new Error(`group ${i}: topics must be among ${NOTICE_TOPICS.join(", ")}`);
    }
    if (!regions.every((r): r is string => typeof r === "string")) throw new Error(`group ${i}: regions are ids`);
    if (typeof count !== "number" || !Number.isInteger(count) || count < 0) {
      throw new Error(`group ${i}: count must be a whole number ≥ 0`);
    }
    return { locale: g.locale, topics, regions, count };
  });
}

/** Local D1 databases that `npm start` (wrangler dev) keeps under .wrangler/state. */
export function findLocalD1(root: string): string[] {
  return findSqliteFiles(join(root, ".wrangler", "state"));
}

/** SQLite files under `dir` (e.g. a folder given to `npm start -- --persist-to`), or `dir` itself if it is one. */
export function findSqliteFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  if (!statSync(dir).isDirectory()) return [dir];
  const found: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith(".sqlite")) found.push(p);
    }
  };
  walk(dir);
  return found.sort();
}

/** Confirmed subscribers grouped by preferences, read from a local D1 file (no addresses leave the query). */
export async function countsFromD1(file: string): Promise<SubscriberGroup[] | undefined> {
  const { DatabaseSync } = await import("node:sqlite");
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    const table = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'subscribers'").get();
    if (!table) return undefined;
    const rows = db
      .prepare(
        "SELECT locale, topics, regions, COUNT(*) AS n FROM subscribers WHERE status = 'confirmed' GROUP BY locale, topics, regions",
      )
      .all() as { locale: string; topics: string; regions: string; n: number }[];
    return parseSubscriberCounts(
      rows.map((r) => ({ locale: r.locale, topics: JSON.parse(r.topics), regions: JSON.parse(r.regions), count: r.n })),
    );
  } finally {
    db.close();
  }
}
