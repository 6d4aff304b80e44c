/**
 * The objection form a notice's "object" button opens (DPA 5.3), and the page after it; in the site's shell. The form
 * posts to /api/notices/{id}/objections with the manage token as a field; it works without JavaScript.
 */
import { formatDate } from "../../domain/labels.ts";
import type { IsoDate, Locale } from "../../domain/schema/common.ts";
import { t } from "../../i18n/index.ts";
import { vendor } from "../env.ts";
import { html, page, samePage } from "./html.ts";

export interface ObjectionPageInput {
  locale: Locale;
  /** The notice's publication number. */
  id: number;
  /** The manage token the notice carried. */
  token: string;
  fingerprint: string;
  /** The subscriber's own last day to object. */
  deadline: IsoDate;
  /** Whether the window is still open; a closed one answers 409 with whom to write to instead. */
  open: boolean;
}

export function objectionPage({ locale, id, token, fingerprint, deadline, open }: ObjectionPageInput): Response {
  const s = t(locale).objectionPage;
  const date = formatDate(deadline, locale);
  const body = open
    ? html`<p>${s.intro(vendor.name)}</p>
<p><strong>${s.deadline(date)}</strong></p>
<form method="post" action="/api/notices/${id}/objections">
<input type="hidden" name="token" value="${token}">
<input type="hidden" name="locale" value="${locale}">
<p><label for="organisation">${s.organisation}</label><br><input id="organisation" name="organisation" required maxlength="200" autocomplete="organization"></p>
<p><label for="reason">${s.reason}</label><br><textarea id="reason" name="reason" required maxlength="5000" rows="8" cols="60"></textarea></p>
<p><button type="submit">${s.submit}</button></p>
</form>
<p><small>${s.fingerprint}: <code>${fingerprint}</code></small></p>`
    : html`<p>${s.closed(date)} <a href="mailto:${vendor.privacyContact}">${vendor.privacyContact}</a></p>`;
  return page({
    locale,
    title: s.title(id),
    body,
    status: open ? 200 : 409,
    alternate: samePage(`subscription/object/${id}`, { token }),
  });
}

/** After the objection was recorded: a receipt is on its way by email. */
export function objectedPage(locale: Locale): Response {
  const s = t(locale).objectionPage;
  return page({ locale, title: s.doneTitle, body: html`<p>${s.done}</p>` });
}
