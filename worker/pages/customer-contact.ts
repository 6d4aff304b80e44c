/**
 * The page a customer's notice contact reaches from its email: who it is the contact of, a form to name a different
 * contact and the unsubscribe button. It only displays; each change is a POST from a button (a mail scanner that
 * fetches the link changes nothing).
 */
import type { Locale } from "../../domain/schema/common.ts";
import { CONTACT_STRINGS } from "../../emails/customer.ts";
import type { AuthenticatedContact } from "../customers/contacts.ts";
import { vendor } from "../env.ts";
import { html, page } from "./html.ts";

export function contactPage(locale: Locale, token: string, { contact, customer }: AuthenticatedContact): Response {
  const s = CONTACT_STRINGS(vendor.name)[locale];
  const unsubscribe = `/api/customers/contacts/unsubscribe?token=${encodeURIComponent(token)}&locale=${locale}`;
  return page({
    locale,
    title: s.pageTitle,
    body: html`<p>${s.pageIntro(customer.name, contact.email)}</p>
<h2>${s.replaceHeading}</h2>
<form method="post" action="/api/customers/contacts/replace">
<input type="hidden" name="token" value="${token}"><input type="hidden" name="locale" value="${locale}">
<p><label for="email">${s.email}</label><br><input id="email" name="email" type="email" autocomplete="email" required></p>
<p><label for="name">${s.name}</label><br><input id="name" name="name" type="text" maxlength="200"></p>
<button type="submit">${s.replaceButton}</button>
</form>
<h2>${s.unsubscribeHeading}</h2>
<p>${s.unsubscribeBody}</p>
<form method="post" action="${unsubscribe}">
<input type="hidden" name="List-Unsubscribe" value="One-Click">
<button type="submit">${s.unsubscribeButton}</button>
</form>`,
  });
}

export function contactDonePage(locale: Locale, done: { replacedBy: string } | "unsubscribed"): Response {
  const s = CONTACT_STRINGS(vendor.name)[locale];
  return done === "unsubscribed"
    ? page({ locale, title: s.unsubscribedTitle, body: html`<p>${s.unsubscribedBody}</p>` })
    : page({ locale, title: s.replacedTitle, body: html`<p>${s.replacedBody(done.replacedBy)}</p>` });
}
