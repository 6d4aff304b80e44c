/**
 * The objection form a notice's "object" button opens (DPA 5.3), and the page after it; in the site's shell. The form
 * posts to /api/notices/{id}/objections with the token as a field; it works without JavaScript (checkboxes, no script).
 */
import { formatDate } from "../../domain/labels.ts";
import type { IsoDate, Locale } from "../../domain/schema/common.ts";
import { t } from "../../i18n/index.ts";
import type { AnnouncedChange } from "../db/objections.ts";
import { vendor } from "../env.ts";
import { html, page, samePage } from "./html.ts";

export interface ObjectionPageInput {
  locale: Locale;
  /** The notice's publication number. */
  id: number;
  /** The token the notice carried (a subscriber's manage token or a customer contact's). */
  token: string;
  fingerprint: string;
  /** The objector's own last day to object. */
  deadline: IsoDate;
  /** Whether the window is still open. A closed one answers a subscriber 409 with whom to write to instead; a
   *  customer may still object, marked late (README "Where this differs"). */
  open: boolean;
  /** The customer the contact objects for; undefined for a self-subscriber. */
  customerName?: string | undefined;
  /** The changes the notice announced, to choose from. */
  changes: readonly AnnouncedChange[];
}

export function objectionPage(input: ObjectionPageInput): Response {
  const { locale, id, token, fingerprint, deadline, open, customerName, changes } = input;
  const s = t(locale).objectionPage;
  const date = formatDate(deadline, locale);
  const alternate = samePage(`subscription/object/${id}`, { token });
  const customer = customerName !== undefined;
  if (!open && !customer) {
    return page({
      locale,
      title: s.title(id),
      body: html`<p>${s.closed(date)} <a href="mailto:${vendor.privacyContact}">${vendor.privacyContact}</a></p>`,
      status: 409,
      alternate,
    });
  }
  // A customer must name at least one change (checked on submit); a single one is pre-selected.
  const body = html`<p>${customer ? s.customerIntro(vendor.name, customerName) : s.intro(vendor.name)}</p>
<p><strong>${open ? s.deadline(date) : s.customerLate(date)}</strong></p>
<form method="post" action="/api/notices/${id}/objections">
<input type="hidden" name="token" value="${token}">
<input type="hidden" name="locale" value="${locale}">
<fieldset><legend>${customer ? s.customerChanges : s.changes}</legend>
${changes.map(
  (ch, i) =>
    html`<p><input type="checkbox" id="change-${i}" name="changes" value="${ch.id}"${changes.length === 1 && customer ? html` checked` : ""}> <label for="change-${i}">${ch.summary[locale]} (${s.effective(formatDate(ch.effective, locale))})</label></p>`,
)}
</fieldset>
${customer ? "" : html`<p><label for="organisation">${s.organisation}</label><br><input id="organisation" name="organisation" required maxlength="200" autocomplete="organization"></p>`}
<p><label for="reason">${s.reason}</label><br><textarea id="reason" name="reason" required maxlength="5000" rows="8" cols="60"></textarea></p>
<p><button type="submit">${s.submit}</button></p>
</form>
<p><small>${s.fingerprint}: <code>${fingerprint}</code></small></p>`;
  return page({ locale, title: s.title(id), body, alternate });
}

/** After the objection was recorded: a receipt is on its way by email; a late one says it is marked late. */
export function objectedPage(locale: Locale, late: boolean): Response {
  const s = t(locale).objectionPage;
  return page({
    locale,
    title: s.doneTitle,
    body: html`<p>${s.done}</p>${late ? html`<p><strong>${s.doneLate}</strong></p>` : ""}`,
  });
}
