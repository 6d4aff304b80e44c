/**
 * The worker-rendered subscription pages, in the site's shell. They only display things and hold forms; every change is
 * a POST from a button, so a mail scanner that fetches a link changes nothing.
 */
import { NOTICE_TOPICS as TOPICS } from "../../domain/notice.ts";
import { LOCALES, type Locale } from "../../domain/schema/common.ts";
import { cohortName, regionName, t } from "../../i18n/index.ts";
import type { Subscriber } from "../db/subscribers.ts";
import { MAX_ENDPOINTS_PER_SUBSCRIBER } from "../db/webhook-endpoints.ts";
import { CONTRACT_COHORT_IDS, REGION_IDS, vendor } from "../env.ts";
import type { ApiError } from "../http/errors.ts";
import { type EndpointView, MAX_ENDPOINTS_RULE } from "../webhooks/endpoints.ts";
import { errorMessage, html, page, type SafeHtml, samePage } from "./html.ts";

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

/** What the manage page confirms after a webhook form (the test's result itself is on the endpoint). */
export type WebhookNotice = "tested" | "removed";

export function managePage(
  locale: Locale,
  token: string,
  sub: Subscriber,
  saved: boolean,
  endpoints: readonly EndpointView[] = [],
  webhookNotice?: WebhookNotice,
): Response {
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
${webhooksSection(locale, token, endpoints, webhookNotice)}
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

// ---------------------------------------------------------------------------------------------
// Webhooks (README "Webhooks"): the manage page's section and the pages its forms answer with.

/** An instant as "2026-12-01 13:20 UTC": the same in both languages, and what the API's ISO timestamps say. */
function instant(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/** The token and language every webhook form carries, like the other manage forms. */
function formFields(token: string, locale: Locale): SafeHtml {
  return html`${hidden("token", token)}${hidden("locale", locale)}`;
}

function endpointItem(locale: Locale, token: string, e: EndpointView, index: number): SafeHtml {
  const w = t(locale).webhooks;
  const id = `webhook-${index + 1}`;
  const action = (path: string) => `/api/webhooks/endpoints/${encodeURIComponent(e.id)}${path}`;
  // Every endpoint has the same three buttons: each names the endpoint it acts on for screen readers.
  const button = (label: string) => html`<button type="submit" aria-describedby="${id}">${label}</button>`;
  const last = e.deliveries[0];
  return html`<li>
<h3 id="${id}">${e.description ?? e.url}</h3>
<dl class="facts">
<dt>URL</dt><dd>${e.url}</dd>
<dt>${w.statusLabel}</dt><dd>${w.status[e.status]}</dd>
<dt>${w.lastTest}</dt><dd>${e.lastTest ? `${instant(e.lastTest.at)}: ${e.lastTest.detail ?? ""}` : w.neverTested}</dd>
<dt>${w.lastDelivery}</dt><dd>${last ? `${instant(last.createdAt)}: ${w.deliveryStatus[last.status]}` : w.noDeliveries}</dd>
</dl>
<form method="post" action="${action("/test")}">${formFields(token, locale)}${button(w.test)}</form>
<form method="post" action="${action("/rotate-secret")}">${formFields(token, locale)}${button(w.rotate)}</form>
<form method="post" action="${action("")}">${formFields(token, locale)}${hidden("_method", "DELETE")}${button(w.remove)}</form>
</li>`;
}

function webhooksSection(
  locale: Locale,
  token: string,
  endpoints: readonly EndpointView[],
  notice: WebhookNotice | undefined,
): SafeHtml {
  const w = t(locale).webhooks;
  const addForm =
    endpoints.length >= MAX_ENDPOINTS_PER_SUBSCRIBER
      ? html`<p>${w.capReached(MAX_ENDPOINTS_PER_SUBSCRIBER)}</p>`
      : html`<form method="post" action="/api/webhooks/endpoints">
${formFields(token, locale)}
<p class="field"><label for="webhook-url">${w.urlLabel}</label>
<input type="text" inputmode="url" id="webhook-url" name="url" required maxlength="2048" autocomplete="off" spellcheck="false" aria-describedby="webhook-url-hint">
<span id="webhook-url-hint">${w.urlHint}</span></p>
<p class="field"><label for="webhook-description">${w.descriptionLabel}</label>
<input type="text" id="webhook-description" name="description" maxlength="200"></p>
<fieldset><legend>${w.regionsLegend}</legend><p>${w.regionsHint}</p><ul>
${REGION_IDS.map((r) => checkbox("regions", r, regionName(vendor, r, locale), false))}
</ul></fieldset>
<fieldset><legend>${w.cohortLegend}</legend><ul>
${CONTRACT_COHORT_IDS.map((c) => radio("cohort", c, cohortName(vendor, c, locale), false))}
${radio("cohort", "", w.cohortAny, true)}
</ul></fieldset>
<button type="submit">${w.add}</button>
</form>`;
  return html`<h2 id="webhooks">${w.heading}</h2>
${notice ? html`<p role="status">${w[notice]}</p>` : ""}
<p>${w.intro}</p>
${endpoints.length === 0 ? html`<p>${w.none}</p>` : html`<ul>${endpoints.map((e, i) => endpointItem(locale, token, e, i))}</ul>`}
${addForm}`;
}

function backToManage(locale: Locale, token: string): SafeHtml {
  return html`<p><a href="/${locale}/subscription/manage?token=${encodeURIComponent(token)}#webhooks">${t(locale).webhooks.back}</a></p>`;
}

/**
 * The answer to the add and rotate forms: the secret, this once. It is in this page only — never in a URL, a
 * redirect or a log — and the page is not cached (page() answers no-store).
 */
export function secretPage(
  locale: Locale,
  token: string,
  endpoint: EndpointView,
  secret: string,
  kind: "created" | "rotated",
): Response {
  const w = t(locale).webhooks;
  return page({
    locale,
    title: kind === "created" ? w.secretTitleCreated : w.secretTitleRotated,
    body: html`<p role="status"><strong>${w.copyNow}</strong></p>
<h2>${w.secretLabel}</h2>
<pre><code>${secret}</code></pre>
<dl class="facts">
<dt>URL</dt><dd>${endpoint.url}</dd>
<dt>${w.statusLabel}</dt><dd>${w.status[endpoint.status]}</dd>
</dl>
${endpoint.previousSecretValidUntil ? html`<p>${w.previousValid(instant(endpoint.previousSecretValidUntil))}</p>` : ""}
<p>${w.verifyHint}</p>
<form method="post" action="/api/webhooks/endpoints/${encodeURIComponent(endpoint.id)}/test">
${formFields(token, locale)}<button type="submit">${w.test}</button>
</form>
${backToManage(locale, token)}`,
  });
}

/** A webhook form the rules refused: why (the URL guard's rule in the page's language), and the way back. */
export function webhookFormErrorPage(locale: Locale, token: string, error: ApiError): Response {
  const w = t(locale).webhooks;
  const sentences: Record<string, string> = {
    ...w.urlRules,
    [MAX_ENDPOINTS_RULE]: w.capReached(MAX_ENDPOINTS_PER_SUBSCRIBER),
  };
  const known = (error.issues ?? []).flatMap((issue) => {
    const rule = "rule" in issue ? issue.rule : undefined;
    return rule && sentences[rule] ? [sentences[rule]] : [];
  });
  const reason = known.length > 0 ? known : [errorMessage(error.code, locale)];
  const res = page({
    locale,
    title: w.errorTitle,
    status: error.status,
    body: html`${reason.map((r) => html`<p>${r}</p>`)}
${backToManage(locale, token)}`,
  });
  for (const [k, v] of Object.entries(error.headers)) res.headers.set(k, v);
  return res;
}
