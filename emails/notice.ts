import type { AnnexCEntry, VersionAudience } from "../domain/annex.ts";
import type { AnnexCDiff } from "../domain/diff.ts";
import {
  addressLabel,
  appliesToLabels,
  chainEntryLabel,
  fieldLabel,
  formatDate as formatDateUncached,
  locationLabel,
  mechanismLabel,
  relationshipLabel,
} from "../domain/labels.ts";
import { type Notice, noticeVersionDate, type PersonalNotice } from "../domain/notice.ts";
import { annexCPaths } from "../domain/paths.ts";
import type { IsoDate, Locale } from "../domain/schema/common.ts";
import type { Location } from "../domain/schema/subprocessor.ts";
import type { Vendor } from "../domain/schema/vendor.ts";
import { cohortName, regionName, t as strings } from "../i18n/index.ts";
import { button, layout } from "./layout.ts";
import type { NoticeLinks } from "./links.ts";
import { escapeHtml, listUnsubscribeHeaders, type RenderedEmail } from "./message.ts";

// The change notice (README "How notices and objections work"): pure, data in and email out. No I/O, no clock: the
// objection deadline comes in as stored with the delivery's claim (DPA 5.3, counted from receipt), so a retried batch
// renders byte-for-byte the same email (the Idempotency-Key covers the payload; a different payload under the same key
// would be refused by Resend).

export interface NoticeEmailInput {
  notice: Pick<Notice, "publicationId" | "sequence" | "fingerprint" | "previousFingerprint" | "document">;
  personal: PersonalNotice;
  vendor: Pick<
    Vendor,
    "name" | "legalEntity" | "privacyContact" | "objectionWorkingDays" | "workingDayCalendar" | "regions" | "cohorts"
  > &
    Partial<Pick<Vendor, "services" | "dataCategories">>;
  baseUrl: string;
  /**
   * DPA 5.3: the last day to object, counted from the moment the notice is handed to the provider; the send loop
   * computes it once per batch and stores it with the claim, and every rendering of that email quotes the same day.
   */
  deadline: IsoDate;
  /** A customer's notice contact has no preferences page (`manage`); a subscriber has. */
  links: Pick<NoticeLinks, "object" | "unsubscribe" | "oneClickUnsubscribe"> &
    Partial<Pick<NoticeLinks, "manage" | "deadlineCalendar">>;
  /** The customer region and cohort the notice is for, when known: its JSON link is then that audience's file. */
  audience?: VersionAudience | undefined;
  /** A self-subscriber (default) or a customer's notice contact: the footer says why the email came. */
  recipient?: "subscriber" | "contact" | undefined;
}

// A fan-out renders the same dates, locations and deadlines for thousands of emails; Intl formatters are costly to
// build, so results are kept (pure functions of their inputs: caching cannot change an email).
const dateCache = new Map<string, string>();
function formatDate(date: IsoDate, locale: Locale): string {
  const key = `${locale}|${date}`;
  let out = dateCache.get(key);
  if (out === undefined) {
    out = formatDateUncached(date, locale);
    if (dateCache.size > 10_000) dateCache.clear();
    dateCache.set(key, out);
  }
  return out;
}

const locationCache = new WeakMap<Location, Map<string, { where: string; detail: string }>>();

/** The entry's own sub-processors (EDPB Opinion 22/2024), one line each, and the link to its own list if it has one. */
function chainLines(entry: AnnexCEntry, locale: Locale): string[] {
  const t = strings(locale).notice;
  return [
    ...(entry.subprocessors ?? []).map(
      (c) =>
        `${t.chain}: ${chainEntryLabel(c, locale)} – ${c.locations.map((l) => `${locationLabel(l, locale)}: ${mechanismLabel(l, locale)}`).join("; ")}`,
    ),
    ...(entry.subprocessorList
      ? [t.chainList(entry.subprocessorList.url, formatDate(entry.subprocessorList.checked, locale))]
      : []),
  ];
}

function locationLines(
  location: Location,
  vendor: NoticeEmailInput["vendor"],
  locale: Locale,
): { where: string; detail: string } {
  const cached = locationCache.get(location)?.get(locale);
  if (cached) return cached;
  const lines = locationLinesUncached(location, vendor, locale);
  const perLocale = locationCache.get(location) ?? new Map();
  perLocale.set(locale, lines);
  locationCache.set(location, perLocale);
  return lines;
}

function locationLinesUncached(
  location: Location,
  vendor: NoticeEmailInput["vendor"],
  locale: Locale,
): { where: string; detail: string } {
  const applies = location.appliesTo ? ` (${appliesToLabels(location.appliesTo, vendor, locale).join("; ")})` : "";
  return { where: `${locationLabel(location, locale)}${applies}`, detail: mechanismLabel(location, locale) };
}

/** Sentences saying what changes, one per fact, in the subscriber's words and for their regions. */
export function changeSentences(
  diff: AnnexCDiff,
  personal: PersonalNotice,
  locale: Locale,
  vendor: NoticeEmailInput["vendor"],
): string[] {
  const t = strings(locale).notice;
  const out: string[] = [];
  for (const e of diff.added) out.push(t.added(e.name));
  for (const e of diff.removed) out.push(t.removed(e.name));
  // A new processor down the chain is announced like a new sub-processor (EDPB Opinion 22/2024, DPA 5.2).
  for (const c of diff.changed) for (const sub of c.subprocessorsAdded ?? []) out.push(t.chainAdded(c.name, sub.name));
  for (const c of diff.changed) {
    const fields = c.fields.filter((f) => f.field !== "locations").map((f) => fieldLabel(f.field, locale));
    const locs = [
      ...c.locationsAdded.map((l) => t.locationAdded(locationLabel(l, locale))),
      ...c.locationsRemoved.map((l) => t.locationRemoved(locationLabel(l, locale))),
      ...c.locationsReapplied.map(({ before, after }) =>
        t.locationReapplied(
          locationLabel(after, locale),
          appliesToLabels(before.appliesTo, vendor, locale).join("; "),
          appliesToLabels(after.appliesTo, vendor, locale).join("; "),
        ),
      ),
    ];
    if (c.fields.some((f) => f.field === "locations") && locs.length === 0) {
      fields.push(fieldLabel("locations", locale));
    }
    const parts = [fields.length > 0 ? fields.join(", ") : undefined, ...locs].filter(Boolean).join("; ");
    out.push(t.changedFields(c.name, parts));
  }
  for (const v of personal.dpaVersionsAdded) out.push(t.dpaAdded(v.version, formatDate(v.effectiveFrom, locale)));
  return out;
}

/** The permanent page and JSON of the version a notice announces (never the moving /annex-c.json). */
export function noticeUrls(
  baseUrl: string,
  locale: Locale,
  notice: NoticeEmailInput["notice"],
  audience?: VersionAudience,
) {
  const base = baseUrl.replace(/\/+$/, "");
  const version = noticeVersionDate(notice);
  if (!version) return { page: `${base}/${locale}/annex-c/`, json: `${base}${annexCPaths.published}` };
  return {
    page: `${base}${annexCPaths.page(locale, version)}`,
    json: `${base}${audience ? annexCPaths.audience(version, audience) : annexCPaths.json(version)}`,
  };
}

const annexCache = new WeakMap<PersonalNotice, WeakMap<object, { text: string[]; table: string }>>();

/**
 * The full Annex C of a notice for one audience, as text blocks and as an HTML table. The same for every subscriber
 * with the same locale, topics and regions, so it is built once per audience and reused.
 */
function annexCBlocks(personal: PersonalNotice, vendor: NoticeEmailInput["vendor"]): { text: string[]; table: string } {
  const cached = annexCache.get(personal)?.get(vendor);
  if (cached) return cached;
  const locale = personal.locale;
  const t = strings(locale).notice;
  const rows = personal.annexC.map((entry) => ({
    entry,
    locations: entry.locations.map((l) => locationLines(l, vendor, locale)),
  }));
  const text = rows.flatMap(({ entry, locations }, i) => [
    `${i + 1}. ${entry.name} (${relationshipLabel(entry.relationship, locale)}; ${t.since} ${formatDate(entry.since, locale)})`,
    `   ${entry.entity.name}, ${addressLabel(entry.entity, locale)}`,
    `   ${t.colPurpose}: ${entry.purpose[locale]}`,
    ...locations.map((l) => `   - ${l.where}: ${l.detail}`),
    ...chainLines(entry, locale).map((line) => `   ${line}`),
    "",
  ]);
  const cell = 'style="border:1px solid #c8c8c8;padding:6px 8px;vertical-align:top;text-align:left"';
  const table = `<table role="table" cellpadding="0" cellspacing="0" border="0" style="border-collapse:collapse;width:100%;font-size:14px">
<caption style="text-align:left;font-weight:bold;padding:4px 0">${escapeHtml(t.annexHeading)}</caption>
<thead><tr><th scope="col" ${cell}>${escapeHtml(t.colName)}</th><th scope="col" ${cell}>${escapeHtml(t.colEntity)}</th><th scope="col" ${cell}>${escapeHtml(t.colPurpose)}</th><th scope="col" ${cell}>${escapeHtml(t.colLocations)}</th></tr></thead>
<tbody>
${rows
  .map(
    ({ entry, locations }) =>
      `<tr><th scope="row" ${cell}>${escapeHtml(entry.name)}<br><span style="font-weight:normal;color:#555">${escapeHtml(relationshipLabel(entry.relationship, locale))}; ${escapeHtml(t.since)} ${escapeHtml(formatDate(entry.since, locale))}</span></th><td ${cell}>${escapeHtml(entry.entity.name)}<br>${escapeHtml(addressLabel(entry.entity, locale))}</td><td ${cell}>${escapeHtml(entry.purpose[locale])}${chainLines(
        entry,
        locale,
      )
        .map((line) => `<br><span style="color:#555">${escapeHtml(line)}</span>`)
        .join(
          "",
        )}</td><td ${cell}>${locations.map((l) => `${escapeHtml(l.where)}<br><span style="color:#555">${escapeHtml(l.detail)}</span>`).join("<br><br>")}</td></tr>`,
  )
  .join("\n")}
</tbody>
</table>`;
  const result = { text, table };
  const perVendor = annexCache.get(personal) ?? new WeakMap();
  perVendor.set(vendor, result);
  annexCache.set(personal, perVendor);
  return result;
}

/**
 * The change notice for one subscriber: what changed (for their regions), when it takes effect, the DPA 5.3 objection
 * deadline (as stored with the claim), an objection button, the FULL updated Annex C for their regions (a plain table
 * for mail clients, a block per sub-processor in the text part), permanent links, the fingerprint, and unsubscribe.
 */
export function renderNotice(input: NoticeEmailInput): RenderedEmail {
  const { notice, personal, vendor, links } = input;
  const locale = personal.locale;
  const t = strings(locale).notice;
  const deadlineText = formatDate(input.deadline, locale);
  const effective = personal.effectiveFrom ? formatDate(personal.effectiveFrom, locale) : undefined;
  const urls = noticeUrls(input.baseUrl, locale, notice, input.audience);
  const subject = personal.topics.includes("subprocessors")
    ? t.subject(vendor.name, effective)
    : t.subjectDpa(vendor.name);
  const regionNames = personal.regions.map((id) => regionName(vendor, id, locale));
  const scope = [
    regionNames.length > 0 ? t.regions(regionNames.join(", ")) : t.allRegions,
    ...(personal.cohort ? [t.cohort(cohortName(vendor, personal.cohort, locale))] : []),
  ].join(" ");
  const sentences = changeSentences(personal.diff, personal, locale, vendor);
  const summaries = personal.changes.map(
    (c) => `${c.summary[locale]} (${t.effective}: ${formatDate(c.effective, locale)})`,
  );
  const annex = annexCBlocks(personal, vendor);

  // Plain text: reads in any client and in a terminal; Annex C as one indented block per sub-processor.
  const bodyText = [
    t.intro(vendor.legalEntity),
    scope,
    "",
    `${t.whatChanged}:`,
    ...sentences.map((s) => `- ${s}`),
    ...summaries.map((s) => `  ${s}`),
    ...(effective ? ["", t.effectiveFrom(effective)] : []),
    "",
    `${t.deadlineHeading}: ${deadlineText}`,
    t.deadline(deadlineText, vendor.objectionWorkingDays),
    `${t.objectButton}: ${links.object}`,
    ...(links.deadlineCalendar ? [`${t.calendar}: ${links.deadlineCalendar}`] : []),
    "",
    `${t.annexHeading}`,
    t.annexIntro,
    "",
    ...annex.text,
    `${t.pageLink}: ${urls.page}`,
    `${t.jsonLink}: ${urls.json}`,
    t.fingerprint(notice.fingerprint),
    ...(notice.previousFingerprint ? [t.previous(notice.previousFingerprint)] : []),
    t.publication(notice.sequence),
  ].join("\n");

  const bodyHtml = `<p>${escapeHtml(t.intro(vendor.legalEntity))}</p>
<p>${escapeHtml(scope)}</p>
<h2 style="font-size:18px;margin:20px 0 8px">${escapeHtml(t.whatChanged)}</h2>
<ul>${sentences.map((s) => `<li>${escapeHtml(s)}</li>`).join("")}</ul>
${summaries.length > 0 ? `<p>${summaries.map(escapeHtml).join("<br>")}</p>` : ""}
${effective ? `<p><strong>${escapeHtml(t.effectiveFrom(effective))}</strong></p>` : ""}
<h2 style="font-size:18px;margin:20px 0 8px">${escapeHtml(t.deadlineHeading)}: ${escapeHtml(deadlineText)}</h2>
<p>${escapeHtml(t.deadline(deadlineText, vendor.objectionWorkingDays))}</p>
${button(links.object, t.objectButton)}
${links.deadlineCalendar ? `<p><a href="${escapeHtml(links.deadlineCalendar)}">${escapeHtml(t.calendar)}</a></p>` : ""}
<h2 style="font-size:18px;margin:24px 0 8px">${escapeHtml(t.annexHeading)}</h2>
<p>${escapeHtml(t.annexIntro)}</p>
${annex.table}
<p><a href="${escapeHtml(urls.page)}">${escapeHtml(t.pageLink)}</a> · <a href="${escapeHtml(urls.json)}">${escapeHtml(t.jsonLink)}</a></p>
<p style="font-size:12px;color:#555;word-break:break-all">${escapeHtml(t.fingerprint(notice.fingerprint))}${notice.previousFingerprint ? `<br>${escapeHtml(t.previous(notice.previousFingerprint))}` : ""}<br>${escapeHtml(t.publication(notice.sequence))}</p>`;

  return layout({
    locale,
    subject,
    preheader: t.preheader(deadlineText),
    bodyHtml,
    bodyText,
    footer: [
      input.recipient === "contact" ? t.footerContact(vendor.name) : t.footer(vendor.name),
      ...(links.manage ? [{ label: t.manage, url: links.manage }] : []),
      { label: t.unsubscribe, url: links.unsubscribe },
      t.questions(vendor.privacyContact),
    ],
    headers: listUnsubscribeHeaders(links.oneClickUnsubscribe),
    width: 760,
  });
}
