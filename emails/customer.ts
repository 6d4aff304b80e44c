/**
 * Emails to a customer's notice contacts and the vendor alerts about them (README "Customers and evidence"). Pure:
 * data in, `{subject, html, text, headers}` out. A contact registered by the vendor needs no double opt-in (the notice
 * is owed under the contract, DPA 5.2), so the first email says who registered it and offers to name someone else;
 * it keeps a working RFC 8058 one-click unsubscribe all the same.
 */
import type { Locale } from "../domain/schema/common.ts";
import { button, layout } from "./layout.ts";
import { escapeHtml, listUnsubscribeHeaders, type RenderedEmail } from "./message.ts";

/** The contact's strings, for this email and the contact page (worker/pages/customer-contact.ts). */
export const CONTACT_STRINGS = (vendorName: string) =>
  ({
    da: {
      subject: (customer: string) => `Du er kontaktperson for ${customer} ved ændringer af underdatabehandlere`,
      intro: (customer: string) =>
        `${vendorName} har registreret dig som kontaktperson for ${customer}. Du får skriftlig besked, før vi tager en ny underdatabehandler i brug eller ændrer en, jf. databehandleraftalen, og kan gøre indsigelse.`,
      wrongPerson: "Er det ikke dig, der skal have beskederne? Angiv en anden kontaktperson:",
      button: "Angiv en anden kontaktperson",
      pageTitle: "Kontaktperson for ændringer af underdatabehandlere",
      pageIntro: (customer: string, email: string) => `${email} er kontaktperson for ${customer}.`,
      replaceHeading: "Angiv en anden kontaktperson",
      email: "E-mailadresse",
      name: "Navn (valgfrit)",
      replaceButton: "Send beskederne til denne person",
      unsubscribeHeading: "Afmeld",
      unsubscribeBody: `Så får denne adresse ingen beskeder mere. ${vendorName} får besked, hvis kunden ikke har flere kontaktpersoner.`,
      unsubscribeButton: "Afmeld",
      replacedTitle: "Tak",
      replacedBody: (email: string) => `${email} er nu kontaktperson og har fået en e-mail om det.`,
      unsubscribedTitle: "Du er afmeldt",
      unsubscribedBody: "Denne adresse får ikke flere beskeder om underdatabehandlere.",
    },
    en: {
      subject: (customer: string) => `You are the notice contact of ${customer} for sub-processor changes`,
      intro: (customer: string) =>
        `${vendorName} has registered you as the notice contact of ${customer}. You will get written notice before we add or change a sub-processor, as the data processing agreement provides, and may object.`,
      wrongPerson: "Should someone else get these notices? Name a different contact:",
      button: "Name a different contact",
      pageTitle: "Notice contact for sub-processor changes",
      pageIntro: (customer: string, email: string) => `${email} is the notice contact of ${customer}.`,
      replaceHeading: "Name a different contact",
      email: "Email address",
      name: "Name (optional)",
      replaceButton: "Send the notices to this person",
      unsubscribeHeading: "Unsubscribe",
      unsubscribeBody: `This address then gets no more notices. ${vendorName} is told when the customer has no contact left.`,
      unsubscribeButton: "Unsubscribe",
      replacedTitle: "Thank you",
      replacedBody: (email: string) => `${email} is now the notice contact and has been emailed about it.`,
      unsubscribedTitle: "You are unsubscribed",
      unsubscribedBody: "This address gets no more notices about sub-processors.",
    },
  }) satisfies Record<Locale, unknown>;

export interface ContactRegisteredInput {
  locale: Locale;
  vendorName: string;
  customerName: string;
  /** The contact page (name a different contact, unsubscribe): /{locale}/customer/contact?token=… */
  contactUrl: string;
  /** RFC 8058 one-click POST target. */
  oneClickUrl: string;
}

/** "You are the notice contact of <customer>": sent once, when the vendor registers the contact. */
export function contactRegisteredEmail(input: ContactRegisteredInput): RenderedEmail {
  const s = CONTACT_STRINGS(input.vendorName)[input.locale];
  return layout({
    locale: input.locale,
    subject: s.subject(input.customerName),
    bodyHtml: `<p>${escapeHtml(s.intro(input.customerName))}</p>
<p>${escapeHtml(s.wrongPerson)}</p>
${button(input.contactUrl, s.button)}`,
    bodyText: `${s.intro(input.customerName)}

${s.wrongPerson}
${input.contactUrl}`,
    // The footer link opens the contact page (a GET changes nothing); the header is the one-click POST.
    footer: [{ label: s.button, url: input.contactUrl }],
    headers: listUnsubscribeHeaders(input.oneClickUrl),
  });
}

/** A plain-text alert to the vendor's staff (VENDOR_ALERT_EMAIL), in English like the other vendor alerts. */
function vendorAlert(subject: string, lines: string[]): RenderedEmail {
  const text = `${lines.join("\n")}\n`;
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head><body>${lines.map((l) => `<p>${escapeHtml(l)}</p>`).join("")}</body></html>`;
  return { subject, html, text, headers: {} };
}

export interface ContactAlertInput {
  customer: { externalId: string; name: string };
  email: string;
  adminUrl: string;
}

/** DPA 5.2 owes notice to each customer: one without an active contact cannot be notified until staff name one. */
export function noContactLeftAlert(input: ContactAlertInput): RenderedEmail {
  const { customer } = input;
  return vendorAlert(`Customer ${customer.name} (${customer.externalId}) has no notice contact left`, [
    `${input.email} unsubscribed from sub-processor notices for ${customer.name} (${customer.externalId}).`,
    "The customer has no active notice contact left: it cannot be given written notice of a change (DPA 5.2) until a new contact is registered.",
    `Register one: PUT ${input.adminUrl}`,
  ]);
}

/** A contact named someone else: the CRM should follow, or the next import puts the old contact back. */
export function contactReplacedAlert(input: ContactAlertInput & { replacement: string }): RenderedEmail {
  const { customer } = input;
  return vendorAlert(`Customer ${customer.name} (${customer.externalId}) named a new notice contact`, [
    `${input.email} named ${input.replacement} as the notice contact of ${customer.name} (${customer.externalId}) in their place.`,
    "Update the customer list you import from: an import that still lists the old contact registers it again.",
    `Customer record: ${input.adminUrl}`,
  ]);
}
