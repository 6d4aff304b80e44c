/**
 * The worker-rendered subscription pages, in the site's shell. They only display things and hold forms; every change is
 * a POST from a button, so a mail scanner that fetches a link changes nothing.
 */
import { NOTICE_TOPICS as TOPICS } from "../../domain/notice.ts";
import { LOCALES, type Locale } from "../../domain/schema/common.ts";
import { cohortName, regionName, t } from "../../i18n/index.ts";
import type { Subscriber } from "../db/subscribers.ts";
import { CONTRACT_COHORT_IDS, REGION_IDS, vendor } from "../env.ts";
import { html, page, type SafeHtml, samePage } from "./html.ts";

function hidden(name: string, value: string): SafeHtml {
  return html`<input type="hidden" name="${name}" value="${value}">`;
}

export function confirmPage(locale: Locale, token: string): Response {
  const s = t(locale).confirmPage;
  return page({
    locale,
    title: s.title,
    alternate: samePage("subscription/confirm", { token }),
    body: html`<p>${s.intro(vendor.name)}</p>
<form method="post" action="/api/subscriptions/confirm">
${hidden("token", token)}${hidden("locale", locale)}
<button type="submit">${s.button}</button>
</form>
<p>${s.scannerNote}</p>`,
  });
}

export function confirmedPage(locale: Locale): Response {
  const s = t(locale);
  return page({
    locale,
    title: s.confirmedPage.title,
    alternate: samePage("subscription/confirmed"),
    body: html`<p>${s.confirmedPage.body}</p>
<p><a href="/${locale}/">${s.home}</a></p>`,
  });
}

/** The unsubscribe button; `endpoint` is the one-click URL it posts to (a customer contact's has its own). */
export function unsubscribePage(locale: Locale, token: string, endpoint = "/api/subscriptions/unsubscribe"): Response {
  const s = t(locale).unsubscribePage;
  const action = `${endpoint}?token=${encodeURIComponent(token)}&locale=${locale}`;
  return page({
    locale,
    title: s.title,
    alternate: samePage("subscription/unsubscribe", { token }),
    body: html`<p>${s.body(vendor.name)}</p>
<form method="post" action="${action}">
${hidden("List-Unsubscribe", "One-Click")}
<button type="submit">${s.button}</button>
</form>`,
  });
}

export function unsubscribedPage(locale: Locale): Response {
  const s = t(locale);
  return page({
    locale,
    title: s.unsubscribePage.doneTitle,
    body: html`<p>${s.unsubscribePage.doneBody}</p>
<p><a href="/${locale}/">${s.home}</a></p>`,
  });
}

export function erasedPage(locale: Locale): Response {
  const s = t(locale);
  return page({
    locale,
    title: s.erasedPage.title,
    alternate: samePage("subscription/erased"),
    body: html`<p>${s.erasedPage.body}</p>
<p><a href="/${locale}/">${s.home}</a></p>`,
  });
}

function checkbox(name: string, value: string, label: string, checked: boolean): SafeHtml {
  return html`<li><label><input type="checkbox" name="${name}" value="${value}"${checked ? html` checked` : ""}> ${label}</label></li>`;
}

function radio(name: string, value: string, label: string, checked: boolean): SafeHtml {
  return html`<li><label><input type="radio" name="${name}" value="${value}"${checked ? html` checked` : ""}> ${label}</label></li>`;
}

/** The contract question: the cohorts a contract date decides, the one already stated, and "I don't know" (""). */
function cohortChoices(locale: Locale, current: string | null | undefined): SafeHtml[] {
  const ids =
    current && !CONTRACT_COHORT_IDS.includes(current) ? [...CONTRACT_COHORT_IDS, current] : CONTRACT_COHORT_IDS;
  return [
    ...ids.map((id) => radio("cohort", id, cohortName(vendor, id, locale), current === id)),
    radio("cohort", "", t(locale).managePage.cohortUnknown, !current),
  ];
}

export function managePage(locale: Locale, token: string, sub: Subscriber, saved: boolean): Response {
  const s = t(locale);
  const m = s.managePage;
  const meForm = (
    method: string,
    content: SafeHtml,
    button: string,
  ) => html`<form method="post" action="/api/subscriptions/me">
${hidden("token", token)}${hidden("_method", method)}${content}
<button type="submit">${button}</button>
</form>`;
  const statusSection =
    sub.status === "suppressed"
      ? html`<p>${m.suppressedBody}</p>`
      : sub.status === "unsubscribed"
        ? html`<p>${m.resubscribeBody}</p>${meForm("PATCH", html`${hidden("subscribed", "true")}${hidden("locale", locale)}`, m.resubscribeButton)}`
        : html`<p>${m.unsubscribeBody}</p>${meForm("PATCH", html`${hidden("subscribed", "false")}${hidden("locale", locale)}`, m.unsubscribeButton)}`;
  return page({
    locale,
    title: m.title,
    alternate: samePage("subscription/manage", { token }),
    body: html`${saved ? html`<p role="status">${m.saved}</p>` : ""}
<p>${m.intro}</p>
<dl>
<dt>${m.address}</dt><dd>${sub.email}</dd>
<dt>${m.statusLabel}</dt><dd>${s.status[sub.status]}</dd>
</dl>
<form method="post" action="/api/subscriptions/me">
${hidden("token", token)}${hidden("_method", "PATCH")}
<p><label for="locale">${m.language}</label>
<select id="locale" name="locale">
${LOCALES.map((l) => html`<option value="${l}"${l === sub.locale ? html` selected` : ""}>${s.languageNames[l]}</option>`)}
</select></p>
<fieldset><legend>${m.topicsLegend}</legend><ul>
${TOPICS.map((topic) => checkbox("topics", topic, s.topics[topic], sub.topics.includes(topic)))}
</ul></fieldset>
<fieldset><legend>${m.regionsLegend}</legend><ul>
${REGION_IDS.map((id) => checkbox("regions", id, regionName(vendor, id, locale), sub.regions.includes(id)))}
</ul></fieldset>
<fieldset><legend>${m.cohortLegend(vendor.name)}</legend><ul>
${cohortChoices(locale, sub.cohort)}
</ul></fieldset>
<button type="submit">${m.save}</button>
</form>
<h2>${m.unsubscribeHeading}</h2>
${statusSection}
<h2>${m.exportHeading}</h2>
<p>${m.exportBody}</p>
${meForm("GET", hidden("locale", locale), m.exportButton)}
<h2>${m.eraseHeading}</h2>
<p>${m.eraseBody}</p>
<form method="get" action="/${locale}/subscription/erase">
${hidden("token", token)}
<button type="submit">${m.eraseButton}</button>
</form>`,
  });
}

/** "Erase my data", second step: the only form that erases, with a way back that changes nothing. */
export function erasePage(locale: Locale, token: string, sub: Subscriber): Response {
  const s = t(locale).erasePage;
  return page({
    locale,
    title: s.title,
    alternate: samePage("subscription/erase", { token }),
    body: html`<p>${s.body}</p>
<p><strong>${sub.email}</strong></p>
<form method="post" action="/api/subscriptions/me">
${hidden("token", token)}${hidden("_method", "DELETE")}${hidden("locale", locale)}${hidden("confirm", "erase")}
<button type="submit">${s.button}</button>
</form>
<p><a href="/${locale}/subscription/manage?token=${encodeURIComponent(token)}">${s.keep}</a></p>`,
  });
}
