import type { AnnexCEntry, VersionAudience } from "../../domain/annex.ts";
import { objectionDeadline } from "../../domain/calendar.ts";
import type { AnnexCDiff } from "../../domain/diff.ts";
import {
  addressLabel,
  appliesToLabels,
  chainEntryLabel,
  fieldLabel,
  formatDate as formatDateUncached,
  locationLabel,
  mechanismLabel,
  relationshipLabel,
} from "../../domain/labels.ts";
import type { Notice, PersonalNotice } from "../../domain/notice.ts";
import { annexCPaths } from "../../domain/paths.ts";
import type { IsoDate, Locale } from "../../domain/schema/common.ts";
import type { Location } from "../../domain/schema/subprocessor.ts";
import type { Vendor } from "../../domain/schema/vendor.ts";

// Pure renderers for the change notice (DESIGN "Notices") and the objection emails. No I/O, no clock: the delivery
// instant is passed in, so a retried batch renders byte-for-byte the same email (the Idempotency-Key covers the
// payload; a different payload under the same key would be refused by Resend).

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
  headers: Record<string, string>;
}

export interface NoticeLinks {
  /** The objection form for this notice (carries the subscriber's manage token). */
  object: string;
  /** Preferences page (carries the manage token); a customer's contact has none. */
  manage?: string | undefined;
  /** Human unsubscribe page. */
  unsubscribe: string;
  /** RFC 8058 one-click endpoint (POST), for List-Unsubscribe. */
  oneClickUnsubscribe: string;
  /** The subscriber's own objection deadline as an iCalendar file (Resend batch emails carry no attachments). */
  deadlineCalendar?: string | undefined;
}

export interface NoticeEmailInput {
  notice: Pick<Notice, "publicationId" | "sequence" | "fingerprint" | "previousFingerprint" | "document">;
  personal: PersonalNotice;
  vendor: Pick<
    Vendor,
    "name" | "legalEntity" | "privacyContact" | "objectionWorkingDays" | "workingDayCalendar" | "regions" | "cohorts"
  > &
    Partial<Pick<Vendor, "services" | "dataCategories">>;
  baseUrl: string;
  /** When the notice is handed to the provider: DPA 5.3 counts the objection window from receipt. */
  receivedAt: Date;
  links: NoticeLinks;
  /** The customer region and cohort the notice is for, when known: its JSON link is then that audience's file. */
  audience?: VersionAudience | undefined;
  /** A self-subscriber (default) or a customer's notice contact: the footer says why the email came. */
  recipient?: "subscriber" | "contact" | undefined;
}

const T = {
  da: {
    subject: (vendor: string, date: string | undefined) =>
      date ? `Ændring af ${vendor}s underdatabehandlere fra ${date}` : `Ændring af ${vendor}s underdatabehandlere`,
    subjectDpa: (vendor: string) => `Ny version af ${vendor}s databehandleraftale`,
    preheader: (deadline: string) => `Frist for indsigelse: ${deadline}.`,
    intro: (vendor: string) =>
      `${vendor} giver dig hermed skriftligt varsel om ændringer i listen over underdatabehandlere (bilag C til databehandleraftalen).`,
    regions: (names: string) => `Varslet gælder for kunder i: ${names}.`,
    allRegions: "Varslet gælder for alle kunder.",
    cohort: (name: string) => `Bilag C nedenfor er det, der gælder for: ${name}.`,
    whatChanged: "Hvad ændrer sig",
    added: (name: string) => `${name} tilføjes som underdatabehandler.`,
    removed: (name: string) => `${name} fjernes som underdatabehandler.`,
    changedFields: (name: string, fields: string) => `${name}: ændret ${fields}.`,
    locationAdded: (where: string) => `nyt behandlingssted: ${where}`,
    chain: "Egen underdatabehandler",
    chainList: (url: string, date: string) => `Egen liste over underdatabehandlere: ${url} (kontrolleret ${date})`,
    chainAdded: (name: string, sub: string) => `${name} tager ${sub} i brug som sin egen underdatabehandler.`,
    locationRemoved: (where: string) => `behandlingssted ophører: ${where}`,
    dpaAdded: (version: string, date: string) => `Ny version af databehandleraftalen (${version}) gælder fra ${date}.`,
    effective: "Træder i kraft",
    effectiveFrom: (date: string) => `Ændringerne træder i kraft ${date}.`,
    deadlineHeading: "Frist for indsigelse",
    deadline: (date: string, days: number) =>
      `Du kan gøre indsigelse til og med ${date} (${days} arbejdsdage fra modtagelsen af dette varsel, dansk kalender).`,
    objectButton: "Gør indsigelse",
    calendar: "Føj fristen til din kalender",
    annexHeading: "Bilag C, som det ser ud efter ændringerne",
    annexIntro: "Hele listen for dine regioner. Datoen efter et navn er den dag, posten gælder fra.",
    colName: "Underdatabehandler",
    colEntity: "Juridisk enhed og adresse",
    colPurpose: "Formål",
    colLocations: "Behandlingssteder og overførselsgrundlag",
    since: "gælder fra",
    pageLink: "Se bilag C på portalen",
    jsonLink: "Hent bilag C som JSON",
    fingerprint: (fp: string) => `Fingeraftryk (SHA-256) af den offentliggjorte liste: ${fp}`,
    previous: (fp: string) => `Forrige fingeraftryk: ${fp}`,
    publication: (n: number) => `Offentliggørelse nr. ${n}`,
    footer: (vendor: string) => `Du modtager denne e-mail, fordi du abonnerer på ændringsvarsler fra ${vendor}.`,
    footerContact: (vendor: string) =>
      `Du modtager denne e-mail, fordi din organisation har angivet dig som modtager af ${vendor}s varsler efter databehandleraftalen.`,
    manage: "Skift indstillinger",
    unsubscribe: "Afmeld",
    questions: (mail: string) => `Spørgsmål: ${mail}`,
  },
  en: {
    subject: (vendor: string, date: string | undefined) =>
      date ? `Change to ${vendor}'s sub-processors from ${date}` : `Change to ${vendor}'s sub-processors`,
    subjectDpa: (vendor: string) => `New version of ${vendor}'s data processing agreement`,
    preheader: (deadline: string) => `Deadline for objections: ${deadline}.`,
    intro: (vendor: string) =>
      `${vendor} hereby gives you written notice of changes to its list of sub-processors (Annex C to the data processing agreement).`,
    regions: (names: string) => `This notice covers customers in: ${names}.`,
    allRegions: "This notice covers all customers.",
    cohort: (name: string) => `Annex C below is the one that applies to: ${name}.`,
    whatChanged: "What changes",
    added: (name: string) => `${name} is added as a sub-processor.`,
    removed: (name: string) => `${name} is removed as a sub-processor.`,
    changedFields: (name: string, fields: string) => `${name}: ${fields} changed.`,
    locationAdded: (where: string) => `new processing location: ${where}`,
    chain: "Own sub-processor",
    chainList: (url: string, date: string) => `Own list of sub-processors: ${url} (checked ${date})`,
    chainAdded: (name: string, sub: string) => `${name} engages ${sub} as its own sub-processor.`,
    locationRemoved: (where: string) => `processing location ends: ${where}`,
    dpaAdded: (version: string, date: string) =>
      `A new version of the data processing agreement (${version}) applies from ${date}.`,
    effective: "Takes effect",
    effectiveFrom: (date: string) => `The changes take effect on ${date}.`,
    deadlineHeading: "Deadline for objections",
    deadline: (date: string, days: number) =>
      `You may object up to and including ${date} (${days} working days from receiving this notice, Danish calendar).`,
    objectButton: "Object to this change",
    calendar: "Add the deadline to your calendar",
    annexHeading: "Annex C as it stands after the changes",
    annexIntro: "The full list for your regions. The date after a name is the day the entry applies from.",
    colName: "Sub-processor",
    colEntity: "Legal entity and address",
    colPurpose: "Purpose",
    colLocations: "Processing locations and transfer mechanism",
    since: "applies from",
    pageLink: "View Annex C on the portal",
    jsonLink: "Download Annex C as JSON",
    fingerprint: (fp: string) => `Fingerprint (SHA-256) of the published list: ${fp}`,
    previous: (fp: string) => `Previous fingerprint: ${fp}`,
    publication: (n: number) => `Publication no. ${n}`,
    footer: (vendor: string) => `You receive this email because you subscribe to change notices from ${vendor}.`,
    footerContact: (vendor: string) =>
      `You receive this email because your organisation named you to receive ${vendor}'s notices under the data processing agreement.`,
    manage: "Change preferences",
    unsubscribe: "Unsubscribe",
    questions: (mail: string) => `Questions: ${mail}`,
  },
} as const;

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

const deadlineCache = new Map<string, IsoDate>();
function deadlineFor(receivedAt: Date, vendor: NoticeEmailInput["vendor"]): IsoDate {
  const key = `${receivedAt.getTime()}|${vendor.objectionWorkingDays}|${vendor.workingDayCalendar.extraClosedDays.join(",")}`;
  let out = deadlineCache.get(key);
  if (out === undefined) {
    out = objectionDeadline(receivedAt, vendor.workingDayCalendar, vendor.objectionWorkingDays);
    if (deadlineCache.size > 10_000) deadlineCache.clear();
    deadlineCache.set(key, out);
  }
  return out;
}

const locationCache = new WeakMap<Location, Map<string, { where: string; detail: string }>>();

export function escapeHtml(s: string): string {
  return s
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

/** Both List-Unsubscribe headers (RFC 2369 + RFC 8058 one-click); every email carries them (DESIGN "API"). */
export function listUnsubscribeHeaders(oneClickUrl: string): Record<string, string> {
  return { "List-Unsubscribe": `<${oneClickUrl}>`, "List-Unsubscribe-Post": "List-Unsubscribe=One-Click" };
}

/** The entry's own sub-processors (EDPB Opinion 22/2024), one line each, and the link to its own list if it has one. */
function chainLines(entry: AnnexCEntry, locale: Locale): string[] {
  const t = T[locale];
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
export function changeSentences(diff: AnnexCDiff, personal: PersonalNotice, locale: Locale): string[] {
  const t = T[locale];
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

/** The date the published list is resolved for: its permanent page on the portal is keyed by it. */
function versionDate(notice: NoticeEmailInput["notice"]): IsoDate | undefined {
  let latest: IsoDate | undefined;
  for (const c of notice.document.changes) if (latest === undefined || c.effective > latest) latest = c.effective;
  return latest;
}

/** The permanent page and JSON of the version a notice announces (never the moving /annex-c.json). */
export function noticeUrls(
  baseUrl: string,
  locale: Locale,
  notice: NoticeEmailInput["notice"],
  audience?: VersionAudience,
) {
  const base = baseUrl.replace(/\/+$/, "");
  const version = versionDate(notice);
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
  const t = T[locale];
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
 * deadline counted from `receivedAt`, an objection button, the FULL updated Annex C for their regions (a plain table
 * for mail clients, a block per sub-processor in the text part), permanent links, the fingerprint, and unsubscribe.
 */
export function renderNotice(input: NoticeEmailInput): RenderedEmail {
  const { notice, personal, vendor, links } = input;
  const locale = personal.locale;
  const t = T[locale];
  const deadline = deadlineFor(input.receivedAt, vendor);
  const deadlineText = formatDate(deadline, locale);
  const effective = personal.effectiveFrom ? formatDate(personal.effectiveFrom, locale) : undefined;
  const urls = noticeUrls(input.baseUrl, locale, notice, input.audience);
  const subject = personal.topics.includes("subprocessors")
    ? t.subject(vendor.name, effective)
    : t.subjectDpa(vendor.name);
  const regionNames = personal.regions.map((id) => vendor.regions.find((r) => r.id === id)?.name[locale] ?? id);
  const cohortName = personal.cohort
    ? (vendor.cohorts.find((c) => c.id === personal.cohort)?.name[locale] ?? personal.cohort)
    : undefined;
  const scope = [
    regionNames.length > 0 ? t.regions(regionNames.join(", ")) : t.allRegions,
    ...(cohortName ? [t.cohort(cohortName)] : []),
  ].join(" ");
  const footer = input.recipient === "contact" ? t.footerContact(vendor.name) : t.footer(vendor.name);
  const sentences = changeSentences(personal.diff, personal, locale);
  const summaries = personal.changes.map(
    (c) => `${c.summary[locale]} (${t.effective}: ${formatDate(c.effective, locale)})`,
  );
  const annex = annexCBlocks(personal, vendor);

  // Plain text: reads in any client and in a terminal; Annex C as one indented block per sub-processor.
  const text = [
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
    "",
    "--",
    footer,
    ...(links.manage ? [`${t.manage}: ${links.manage}`] : []),
    `${t.unsubscribe}: ${links.unsubscribe}`,
    t.questions(vendor.privacyContact),
    "",
  ].join("\n");

  // HTML: one centred table, inline styles only, no images or remote resources (mail clients strip the rest).

  const html = `<!doctype html>
<html lang="${locale}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escapeHtml(subject)}</title></head>
<body style="margin:0;padding:0;background:#ffffff;color:#1a1a1a;font-family:Arial,Helvetica,sans-serif;line-height:1.45">
<div style="display:none;max-height:0;overflow:hidden">${escapeHtml(t.preheader(deadlineText))}</div>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0"><tr><td style="padding:16px">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="max-width:760px;margin:0 auto"><tr><td>
<p>${escapeHtml(t.intro(vendor.legalEntity))}</p>
<p>${escapeHtml(scope)}</p>
<h2 style="font-size:18px;margin:20px 0 8px">${escapeHtml(t.whatChanged)}</h2>
<ul>${sentences.map((s) => `<li>${escapeHtml(s)}</li>`).join("")}</ul>
${summaries.length > 0 ? `<p>${summaries.map(escapeHtml).join("<br>")}</p>` : ""}
${effective ? `<p><strong>${escapeHtml(t.effectiveFrom(effective))}</strong></p>` : ""}
<h2 style="font-size:18px;margin:20px 0 8px">${escapeHtml(t.deadlineHeading)}: ${escapeHtml(deadlineText)}</h2>
<p>${escapeHtml(t.deadline(deadlineText, vendor.objectionWorkingDays))}</p>
<table role="presentation" cellpadding="0" cellspacing="0" border="0"><tr><td style="background:#0b5394;border-radius:4px"><a href="${escapeHtml(links.object)}" style="display:inline-block;padding:10px 18px;color:#ffffff;text-decoration:none;font-weight:bold">${escapeHtml(t.objectButton)}</a></td></tr></table>
${links.deadlineCalendar ? `<p><a href="${escapeHtml(links.deadlineCalendar)}">${escapeHtml(t.calendar)}</a></p>` : ""}
<h2 style="font-size:18px;margin:24px 0 8px">${escapeHtml(t.annexHeading)}</h2>
<p>${escapeHtml(t.annexIntro)}</p>
${annex.table}
<p><a href="${escapeHtml(urls.page)}">${escapeHtml(t.pageLink)}</a> · <a href="${escapeHtml(urls.json)}">${escapeHtml(t.jsonLink)}</a></p>
<p style="font-size:12px;color:#555;word-break:break-all">${escapeHtml(t.fingerprint(notice.fingerprint))}${notice.previousFingerprint ? `<br>${escapeHtml(t.previous(notice.previousFingerprint))}` : ""}<br>${escapeHtml(t.publication(notice.sequence))}</p>
<hr style="border:0;border-top:1px solid #c8c8c8">
<p style="font-size:12px;color:#555">${escapeHtml(footer)}<br>${links.manage ? `<a href="${escapeHtml(links.manage)}">${escapeHtml(t.manage)}</a> · ` : ""}<a href="${escapeHtml(links.unsubscribe)}">${escapeHtml(t.unsubscribe)}</a><br>${escapeHtml(t.questions(vendor.privacyContact))}</p>
</td></tr></table>
</td></tr></table>
</body>
</html>
`;
  return { subject, html, text, headers: listUnsubscribeHeaders(links.oneClickUnsubscribe) };
}

export interface ObjectionEmailInput {
  locale: Locale;
  vendor: Pick<Vendor, "name" | "legalEntity" | "privacyContact">;
  objectionId: string;
  publicationId: string;
  fingerprint: string;
  organisation: string;
  reason: string;
  /** When the objection was received (ISO instant) and the deadline it met. */
  receivedAt: string;
  deadline: IsoDate;
  subscriberEmail: string;
  links: { manage: string; oneClickUnsubscribe: string };
}

const R = {
  da: {
    subject: (vendor: string) => `Kvittering: din indsigelse til ${vendor} er modtaget`,
    body: (o: ObjectionEmailInput) =>
      `Vi har modtaget indsigelsen fra ${o.organisation} mod ændringen i offentliggørelse ${o.publicationId} den ${o.receivedAt}, inden fristen ${formatDate(o.deadline, "da")}.`,
    next: (vendor: string, mail: string) =>
      `${vendor} vender tilbage om indsigelsen. Har du spørgsmål i mellemtiden, så skriv til ${mail}.`,
    reason: "Din begrundelse",
    ref: "Reference",
    manage: "Skift indstillinger",
  },
  en: {
    subject: (vendor: string) => `Receipt: ${vendor} has received your objection`,
    body: (o: ObjectionEmailInput) =>
      `We received the objection from ${o.organisation} to the change in publication ${o.publicationId} on ${o.receivedAt}, within the deadline of ${formatDate(o.deadline, "en")}.`,
    next: (vendor: string, mail: string) =>
      `${vendor} will come back to you about the objection. If you have questions meanwhile, write to ${mail}.`,
    reason: "Your reason",
    ref: "Reference",
    manage: "Change preferences",
  },
} as const;

/** Receipt to the subscriber who objected: proof that the objection arrived in time. */
export function renderObjectionReceipt(o: ObjectionEmailInput): RenderedEmail {
  const t = R[o.locale];
  const lines = [
    t.body(o),
    "",
    `${t.reason}:`,
    o.reason,
    "",
    `${t.ref}: ${o.objectionId} (${o.fingerprint})`,
    "",
    t.next(o.vendor.legalEntity, o.vendor.privacyContact),
    "",
    `${t.manage}: ${o.links.manage}`,
  ];
  const html = `<!doctype html><html lang="${o.locale}"><head><meta charset="utf-8"><title>${escapeHtml(t.subject(o.vendor.name))}</title></head><body style="font-family:Arial,Helvetica,sans-serif;line-height:1.45;color:#1a1a1a">
<p>${escapeHtml(t.body(o))}</p>
<p><strong>${escapeHtml(t.reason)}:</strong></p>
<blockquote style="border-left:3px solid #c8c8c8;margin:0;padding:0 12px;white-space:pre-wrap">${escapeHtml(o.reason)}</blockquote>
<p style="font-size:12px;color:#555">${escapeHtml(t.ref)}: ${escapeHtml(o.objectionId)} (${escapeHtml(o.fingerprint)})</p>
<p>${escapeHtml(t.next(o.vendor.legalEntity, o.vendor.privacyContact))}</p>
<p style="font-size:12px"><a href="${escapeHtml(o.links.manage)}">${escapeHtml(t.manage)}</a></p>
</body></html>
`;
  return {
    subject: t.subject(o.vendor.name),
    html,
    text: `${lines.join("\n")}\n`,
    headers: listUnsubscribeHeaders(o.links.oneClickUnsubscribe),
  };
}

/** Alert to the vendor's privacy mailbox (VENDOR_ALERT_EMAIL): an objection needs a person. Always in English+Danish. */
export function renderVendorObjectionAlert(o: Omit<ObjectionEmailInput, "links" | "locale"> & { adminUrl: string }) {
  const subject = `Indsigelse / objection: ${o.organisation} (${o.publicationId})`;
  const fields: [string, string][] = [
    ["Organisation", o.organisation],
    ["Subscriber / abonnent", o.subscriberEmail],
    ["Publication / offentliggørelse", o.publicationId],
    ["Fingerprint / fingeraftryk", o.fingerprint],
    ["Received / modtaget", o.receivedAt],
    ["Deadline / frist", o.deadline],
    ["Objection id", o.objectionId],
  ];
  const text = [
    "A customer objected to a sub-processor change. DPA 5.3: the objection arrived within the window.",
    "En kunde har gjort indsigelse mod en ændring af underdatabehandlere, inden for fristen.",
    "",
    ...fields.map(([k, v]) => `${k}: ${v}`),
    "",
    "Reason / begrundelse:",
    o.reason,
    "",
    `Ledger: ${o.adminUrl}`,
    "",
  ].join("\n");
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head><body style="font-family:Arial,Helvetica,sans-serif">
<p>A customer objected to a sub-processor change, within the DPA 5.3 window.<br>En kunde har gjort indsigelse mod en ændring af underdatabehandlere, inden for fristen.</p>
<table cellpadding="4" style="border-collapse:collapse">${fields.map(([k, v]) => `<tr><th style="text-align:left">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join("")}</table>
<p><strong>Reason / begrundelse:</strong></p><blockquote style="white-space:pre-wrap">${escapeHtml(o.reason)}</blockquote>
<p><a href="${escapeHtml(o.adminUrl)}">Ledger</a></p></body></html>
`;
  return { subject, html, text, headers: {} } satisfies RenderedEmail;
}

/**
 * Alert to the vendor's privacy mailbox (VENDOR_ALERT_EMAIL): a change notice did not reach everyone it should have
 * yet (notices/recovery.ts). Counts and ids only, never subscriber addresses; the ledger has the details.
 */
export function renderFanoutAlert(a: { subject: string; lines: readonly string[]; adminUrl: string }) {
  const subject = `Notice fan-out / udsendelse: ${a.subject}`;
  const intro = "Ændringsmeddelelsen er endnu ikke nået ud til alle abonnenter; se hovedbogen.";
  const text = [...a.lines, "", intro, "", `Ledger: ${a.adminUrl}`, ""].join("\n");
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head><body style="font-family:Arial,Helvetica,sans-serif">
${a.lines.map((l) => `<p>${escapeHtml(l)}</p>`).join("\n")}
<p lang="da">${escapeHtml(intro)}</p>
<p><a href="${escapeHtml(a.adminUrl)}">Ledger</a></p></body></html>
`;
  return { subject, html, text, headers: {} } satisfies RenderedEmail;
}
