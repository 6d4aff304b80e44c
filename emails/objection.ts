import { formatDate } from "../domain/labels.ts";
import type { IsoDate, Locale } from "../domain/schema/common.ts";
import type { Vendor } from "../domain/schema/vendor.ts";
import { t } from "../i18n/index.ts";
import { layout, quoted } from "./layout.ts";
import type { SubscriberLinks } from "./links.ts";
import { escapeHtml, listUnsubscribeHeaders, type RenderedEmail } from "./message.ts";

// The two emails an objection sends (DPA 5.3): the receipt to the subscriber, proof that it arrived in time, and the
// alert to the vendor's privacy mailbox, because an objection needs a person.

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
  links: Pick<SubscriberLinks, "manage" | "oneClickUnsubscribe">;
}

/** Receipt to the subscriber who objected: proof that the objection arrived in time. */
export function renderObjectionReceipt(o: ObjectionEmailInput): RenderedEmail {
  const r = t(o.locale).objectionReceipt;
  const body = r.body(o.organisation, o.publicationId, o.receivedAt, formatDate(o.deadline, o.locale));
  const next = r.next(o.vendor.legalEntity, o.vendor.privacyContact);
  const reference = `${r.ref}: ${o.objectionId} (${o.fingerprint})`;
  return layout({
    locale: o.locale,
    subject: r.subject(o.vendor.name),
    bodyHtml: `<p>${escapeHtml(body)}</p>
<p><strong>${escapeHtml(r.reason)}:</strong></p>
${quoted(o.reason)}
<p style="font-size:12px;color:#555">${escapeHtml(reference)}</p>
<p>${escapeHtml(next)}</p>`,
    bodyText: [body, "", `${r.reason}:`, o.reason, "", reference, "", next].join("\n"),
    footer: [{ label: r.manage, url: o.links.manage }],
    headers: listUnsubscribeHeaders(o.links.oneClickUnsubscribe),
  });
}

/**
 * Alert to the vendor's privacy mailbox (VENDOR_ALERT_EMAIL): an objection needs a person. In English and Danish at
 * once, whoever reads the mailbox.
 */
export function renderVendorObjectionAlert(
  o: Omit<ObjectionEmailInput, "links" | "locale"> & { adminUrl: string },
): RenderedEmail {
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
  const intro = [
    "A customer objected to a sub-processor change, within the DPA 5.3 window.",
    "En kunde har gjort indsigelse mod en ændring af underdatabehandlere, inden for fristen.",
  ];
  return layout({
    locale: "en",
    subject,
    bodyHtml: `<p>${intro[0]}<br><span lang="da">${intro[1]}</span></p>
<table cellpadding="4" style="border-collapse:collapse">${fields.map(([k, v]) => `<tr><th style="text-align:left">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join("")}</table>
<p><strong>Reason / begrundelse:</strong></p><blockquote style="white-space:pre-wrap">${escapeHtml(o.reason)}</blockquote>`,
    bodyText: [...intro, "", ...fields.map(([k, v]) => `${k}: ${v}`), "", "Reason / begrundelse:", o.reason].join("\n"),
    footer: [{ label: "Ledger", url: o.adminUrl }],
    headers: {},
  });
}
