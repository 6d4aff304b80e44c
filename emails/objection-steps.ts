import type { ObjectionOutcome, ObjectionState } from "../domain/objection.ts";
import type { IsoDate, Locale, Localized } from "../domain/schema/common.ts";
import type { Vendor } from "../domain/schema/vendor.ts";
import { layout, quoted } from "./layout.ts";
import { escapeHtml, type RenderedEmail } from "./message.ts";

// Pure renderers for a customer's objection (DPA 5.3, 5.4): the signed receipt to the contact who objected, the alert
// to the vendor, each step staff take, and the alert that a customer could not be notified at all. No I/O, no clock.
// Each email names the changes objected to with their effective dates; instants are written in the reader's language
// on the Copenhagen clock, where the DPA's working days are counted.

/** A change as an objection names it: what the notice announced, and when it takes effect. */
export interface ObjectedChange {
  id: string;
  effective: IsoDate;
  summary: Localized;
}

type VendorNames = Pick<Vendor, "name" | "legalEntity" | "privacyContact">;

const INTL_LOCALE: Record<Locale, string> = { da: "da-DK", en: "en-GB" };
const INSTANT: Record<Locale, Intl.DateTimeFormat> = {
  da: new Intl.DateTimeFormat(INTL_LOCALE.da, { dateStyle: "long", timeStyle: "short", timeZone: "Europe/Copenhagen" }),
  en: new Intl.DateTimeFormat(INTL_LOCALE.en, { dateStyle: "long", timeStyle: "short", timeZone: "Europe/Copenhagen" }),
};
const DAY: Record<Locale, Intl.DateTimeFormat> = {
  da: new Intl.DateTimeFormat(INTL_LOCALE.da, { dateStyle: "long", timeZone: "UTC" }),
  en: new Intl.DateTimeFormat(INTL_LOCALE.en, { dateStyle: "long", timeZone: "UTC" }),
};

const S = {
  da: {
    copenhagen: "dansk tid",
    receiptSubject: (vendor: string) => `Kvittering: ${vendor} har modtaget jeres indsigelse`,
    lateSubject: (vendor: string) => `Kvittering: ${vendor} har modtaget jeres indsigelse (efter fristen)`,
    receiptBody: (customer: string, publication: string, at: string) =>
      `Vi har modtaget indsigelsen fra ${customer} mod varsel nr. ${publication} ${at}.`,
    onTime: (deadline: string) => `Indsigelsen kom inden fristen (${deadline}, til og med).`,
    late: (deadline: string) =>
      `Indsigelsen kom efter fristen (${deadline}, til og med). Den er registreret og bliver behandlet, men efter databehandleraftalen 5.3 anses ændringen for godkendt, når fristen er udløbet uden indsigelse.`,
    changesHeading: "Ændringer, I gør indsigelse mod",
    effective: (date: string) => `træder i kraft ${date}`,
    reason: "Jeres begrundelse",
    next: (vendor: string, mail: string) =>
      `${vendor} vender tilbage med et alternativ eller en afklaring (databehandleraftalen 5.4). Spørgsmål: ${mail}.`,
    receiptHeading: "Signeret kvittering (JWS)",
    receiptHelp: (url: string) =>
      `Kvitteringen er signeret med ${url}; den kan kontrolleres uden at spørge os, med ethvert JOSE-bibliotek.`,
    ref: "Reference",
    stepSubject: (vendor: string, state: string) => `Jeres indsigelse til ${vendor}: ${state}`,
    stepBody: (customer: string, publication: string, at: string) =>
      `Status for indsigelsen fra ${customer} mod varsel nr. ${publication} er ændret ${at}.`,
    note: "Bemærkning",
    questions: (mail: string) => `Spørgsmål: ${mail}.`,
    state: {
      received: "modtaget",
      "alternative-proposed": "alternativ foreslået",
      resolved: "afsluttet",
    } satisfies Record<ObjectionState, string>,
    outcome: {
      withdrawn: "indsigelsen er trukket tilbage",
      "alternative-accepted": "alternativet er accepteret",
      terminated: "aftalen (eller den berørte tjeneste) ophører",
    } satisfies Record<ObjectionOutcome, string>,
  },
  en: {
    copenhagen: "Copenhagen time",
    receiptSubject: (vendor: string) => `Receipt: ${vendor} has received your objection`,
    lateSubject: (vendor: string) => `Receipt: ${vendor} has received your objection (after the deadline)`,
    receiptBody: (customer: string, publication: string, at: string) =>
      `We received the objection from ${customer} to notice no. ${publication} on ${at}.`,
    onTime: (deadline: string) => `The objection arrived within the deadline (${deadline}, inclusive).`,
    late: (deadline: string) =>
      `The objection arrived after the deadline (${deadline}, inclusive). It is recorded and will be handled, but under DPA 5.3 the change counts as accepted once the deadline has passed without an objection.`,
    changesHeading: "Changes you object to",
    effective: (date: string) => `takes effect on ${date}`,
    reason: "Your reason",
    next: (vendor: string, mail: string) =>
      `${vendor} will come back to you with an alternative or a resolution (DPA 5.4). Questions: ${mail}.`,
    receiptHeading: "Signed receipt (JWS)",
    receiptHelp: (url: string) =>
      `The receipt is signed with the key published at ${url}; anyone can check it without asking us, with any JOSE library.`,
    ref: "Reference",
    stepSubject: (vendor: string, state: string) => `Your objection to ${vendor}: ${state}`,
    stepBody: (customer: string, publication: string, at: string) =>
      `The objection from ${customer} to notice no. ${publication} moved on ${at}.`,
    note: "Note",
    questions: (mail: string) => `Questions: ${mail}.`,
    state: {
      received: "received",
      "alternative-proposed": "alternative proposed",
      resolved: "resolved",
    } satisfies Record<ObjectionState, string>,
    outcome: {
      withdrawn: "the objection was withdrawn",
      "alternative-accepted": "the alternative was accepted",
      terminated: "the agreement (or the affected service) ends",
    } satisfies Record<ObjectionOutcome, string>,
  },
} as const;

/** An instant in the reader's language on the Copenhagen clock: "1 December 2026 at 13:51 (Copenhagen time)". */
export function copenhagenInstant(iso: string, locale: Locale): string {
  return `${INSTANT[locale].format(new Date(iso))} (${S[locale].copenhagen})`;
}

function day(date: IsoDate, locale: Locale): string {
  return DAY[locale].format(new Date(`${date}T00:00:00Z`));
}

function changeLines(changes: readonly ObjectedChange[], locale: Locale): string[] {
  return changes.map((c) => `${c.summary[locale]} (${S[locale].effective(day(c.effective, locale))}; ${c.id})`);
}

/** What both the receipt and the vendor's alert say about a customer's objection. */
export interface CustomerObjectionFacts {
  vendor: VendorNames;
  objectionId: string;
  customerName: string;
  publicationId: string;
  fingerprint: string;
  changes: readonly ObjectedChange[];
  /** ISO instant the objection was received. */
  receivedAt: string;
  /** The honoured deadline it was judged against. */
  deadline: IsoDate;
  late: boolean;
  reason: string;
}

export interface CustomerReceiptInput extends CustomerObjectionFacts {
  locale: Locale;
  /** The compact JWS (domain/objection-receipt.ts). */
  receipt: string;
  jwksUrl: string;
}

/** The receipt to the contact who objected: what was objected to, when, whether in time, and the signed receipt. */
export function renderCustomerObjectionReceipt(o: CustomerReceiptInput): RenderedEmail {
  const s = S[o.locale];
  const subject = (o.late ? s.lateSubject : s.receiptSubject)(o.vendor.name);
  const intro = s.receiptBody(o.customerName, o.publicationId, copenhagenInstant(o.receivedAt, o.locale));
  const timing = (o.late ? s.late : s.onTime)(day(o.deadline, o.locale));
  const changes = changeLines(o.changes, o.locale);
  const next = s.next(o.vendor.legalEntity, o.vendor.privacyContact);
  const text = [
    intro,
    timing,
    "",
    `${s.changesHeading}:`,
    ...changes.map((c) => `- ${c}`),
    "",
    `${s.reason}:`,
    o.reason,
    "",
    next,
    "",
    `${s.receiptHeading}:`,
    o.receipt,
    s.receiptHelp(o.jwksUrl),
    "",
    `${s.ref}: ${o.objectionId} (${o.fingerprint})`,
    "",
  ].join("\n");
  return layout({
    locale: o.locale,
    subject,
    bodyHtml: `<p>${escapeHtml(intro)}</p>
<p><strong>${escapeHtml(timing)}</strong></p>
<h2 style="font-size:16px">${escapeHtml(s.changesHeading)}</h2>
<ul>${changes.map((c) => `<li>${escapeHtml(c)}</li>`).join("")}</ul>
<p><strong>${escapeHtml(s.reason)}:</strong></p>
${quoted(o.reason)}
<p>${escapeHtml(next)}</p>
<h2 style="font-size:16px">${escapeHtml(s.receiptHeading)}</h2>
<p style="font-family:monospace;font-size:12px;word-break:break-all">${escapeHtml(o.receipt)}</p>
<p style="font-size:12px">${escapeHtml(s.receiptHelp(o.jwksUrl))}</p>
<p style="font-size:12px;color:#555">${escapeHtml(s.ref)}: ${escapeHtml(o.objectionId)} (${escapeHtml(o.fingerprint)})</p>`,
    bodyText: text,
    footer: [],
    headers: {},
  });
}

export interface CustomerAlertInput extends CustomerObjectionFacts {
  customerId: string;
  contactEmail: string;
  adminUrl: string;
}

/** The alert to the vendor's privacy mailbox: a customer objected and needs a person (DPA 5.4). Danish and English. */
export function renderCustomerObjectionAlert(o: CustomerAlertInput): RenderedEmail {
  const subject = `Indsigelse / objection${o.late ? " (late / for sent)" : ""}: ${o.customerName} (${o.customerId}, ${o.publicationId})`;
  const fields: [string, string][] = [
    ["Customer / kunde", `${o.customerName} (${o.customerId})`],
    ["Contact / kontakt", o.contactEmail],
    ["Publication / offentliggørelse", o.publicationId],
    ["Fingerprint / fingeraftryk", o.fingerprint],
    ["Received / modtaget", `${copenhagenInstant(o.receivedAt, "en")} / ${copenhagenInstant(o.receivedAt, "da")}`],
    ["Deadline / frist", `${day(o.deadline, "en")} / ${day(o.deadline, "da")}`],
    ["On time / rettidig", o.late ? "no, late / nej, for sent" : "yes / ja"],
    ["Objection id", o.objectionId],
  ];
  const changes = [...changeLines(o.changes, "en"), ...changeLines(o.changes, "da")];
  const text = [
    "A customer objected to a sub-processor change (DPA 5.3); propose an alternative or resolve it (DPA 5.4).",
    "En kunde har gjort indsigelse mod en ændring af underdatabehandlere.",
    "",
    ...fields.map(([k, v]) => `${k}: ${v}`),
    "",
    "Changes / ændringer:",
    ...changes.map((c) => `- ${c}`),
    "",
    "Reason / begrundelse:",
    o.reason,
    "",
    `Admin: ${o.adminUrl}`,
    "",
  ].join("\n");
  return layout({
    locale: "en",
    subject,
    bodyHtml: `<p>A customer objected to a sub-processor change (DPA 5.3); propose an alternative or resolve it (DPA 5.4).<br><span lang="da">En kunde har gjort indsigelse mod en ændring af underdatabehandlere.</span></p>
<table cellpadding="4" style="border-collapse:collapse">${fields.map(([k, v]) => `<tr><th style="text-align:left">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join("")}</table>
<p><strong>Changes / ændringer:</strong></p><ul>${changes.map((c) => `<li>${escapeHtml(c)}</li>`).join("")}</ul>
<p><strong>Reason / begrundelse:</strong></p><blockquote style="white-space:pre-wrap">${escapeHtml(o.reason)}</blockquote>
<p><a href="${escapeHtml(o.adminUrl)}">Admin</a></p>`,
    bodyText: text,
    footer: [],
    headers: {},
  });
}

export interface ObjectionStepInput {
  locale: Locale;
  vendor: VendorNames;
  objectionId: string;
  customerName: string;
  publicationId: string;
  changes: readonly ObjectedChange[];
  state: ObjectionState;
  outcome?: ObjectionOutcome | null | undefined;
  note: string;
  at: string;
}

/** A step staff took on an objection, to every contact of the customer (DPA 5.4). */
export function renderObjectionStep(o: ObjectionStepInput): RenderedEmail {
  const s = S[o.locale];
  const status = o.outcome ? `${s.state[o.state]}: ${s.outcome[o.outcome]}` : s.state[o.state];
  const subject = s.stepSubject(o.vendor.name, status);
  const intro = s.stepBody(o.customerName, o.publicationId, copenhagenInstant(o.at, o.locale));
  const changes = changeLines(o.changes, o.locale);
  const questions = s.questions(o.vendor.privacyContact);
  const text = [
    intro,
    "",
    status,
    "",
    `${s.note}:`,
    o.note,
    "",
    `${s.changesHeading}:`,
    ...changes.map((c) => `- ${c}`),
    "",
    questions,
    `${s.ref}: ${o.objectionId}`,
    "",
  ].join("\n");
  return layout({
    locale: o.locale,
    subject,
    bodyHtml: `<p>${escapeHtml(intro)}</p>
<p><strong>${escapeHtml(status)}</strong></p>
<p><strong>${escapeHtml(s.note)}:</strong></p>
${quoted(o.note)}
<h2 style="font-size:16px">${escapeHtml(s.changesHeading)}</h2>
<ul>${changes.map((c) => `<li>${escapeHtml(c)}</li>`).join("")}</ul>
<p>${escapeHtml(questions)}</p>
<p style="font-size:12px;color:#555">${escapeHtml(s.ref)}: ${escapeHtml(o.objectionId)}</p>`,
    bodyText: text,
    footer: [],
    headers: {},
  });
}

export interface NotNotifiedAlertInput {
  publicationId: string;
  fingerprint: string;
  customers: readonly { id: string; name: string | undefined; region: string; cohort: string | undefined }[];
  evidenceUrl: string;
}

/**
 * The alert that customers concerned by a notice could not be reached at all (every contact bounced, suppressed or
 * never sent): DPA 5.2 owes them written notice, so a person must find another way; their consent is never deemed.
 */
export function renderNotNotifiedAlert(a: NotNotifiedAlertInput): RenderedEmail {
  const subject = `Not notified / ikke varslet: ${a.customers.length} customer(s), notice ${a.publicationId}`;
  const lines = a.customers.map(
    (c) => `${c.id}${c.name ? ` ${c.name}` : ""} (${c.region}${c.cohort ? `, ${c.cohort}` : ""})`,
  );
  const intro =
    "These customers are concerned by the notice, but no contact could be reached (bounced, suppressed or not sent). " +
    "DPA 5.2 owes them written notice: reach them another way; their consent is not deemed.";
  const introDa = "Disse kunder er berørt af varslet, men ingen kontakt kunne nås. Varsl dem på anden vis.";
  const text = [
    intro,
    introDa,
    "",
    `Publication / offentliggørelse: ${a.publicationId} (${a.fingerprint})`,
    ...lines.map((l) => `- ${l}`),
    "",
    `Evidence: ${a.evidenceUrl}`,
    "",
  ].join("\n");
  return layout({
    locale: "en",
    subject,
    bodyHtml: `<p>${escapeHtml(intro)}<br><span lang="da">${escapeHtml(introDa)}</span></p>
<p>Publication / offentliggørelse: ${escapeHtml(a.publicationId)} (${escapeHtml(a.fingerprint)})</p>
<ul>${lines.map((l) => `<li>${escapeHtml(l)}</li>`).join("")}</ul>
<p><a href="${escapeHtml(a.evidenceUrl)}">Evidence</a></p>`,
    bodyText: text,
    footer: [],
    headers: {},
  });
}
