/**
 * Minimal server-rendered HTML for the few pages the worker answers itself (confirm, manage,
 * unsubscribe). Semantic markup, one h1, a skip link, the site's stylesheet, no scripts at all.
 */
import { escapeHtml } from "../../emails/message.ts";
import { DEFAULT_LOCALE, type Locale } from "../config.ts";
import { type ApiError, ERROR_STATUS } from "../errors.ts";
import { errorMessage, t } from "../i18n.ts";

/** Marks a string as already-safe HTML. Only `html` and `page` produce these. */
export interface SafeHtml {
  readonly __html: string;
}

function isSafe(value: unknown): value is SafeHtml {
  return typeof value === "object" && value !== null && "__html" in value;
}

type Part = string | number | SafeHtml | readonly Part[] | null | undefined | false;

function renderPart(part: Part): string {
  if (part === null || part === undefined || part === false) return "";
  if (Array.isArray(part)) return part.map((p: Part) => renderPart(p)).join("");
  if (isSafe(part)) return part.__html;
  return escapeHtml(String(part));
}

/** Tagged template that escapes every interpolated value unless it is already SafeHtml. */
export function html(strings: TemplateStringsArray, ...values: Part[]): SafeHtml {
  let out = strings[0] ?? "";
  values.forEach((value, i) => {
    out += renderPart(value) + (strings[i + 1] ?? "");
  });
  return { __html: out };
}

export interface PageOptions {
  locale: Locale;
  title: string;
  body: SafeHtml;
  status?: number;
}

/** A whole page: lang attribute, skip link, one h1 (the title), the site stylesheet. Never cached. */
export function page({ locale, title, body, status = 200 }: PageOptions): Response {
  const s = t(locale);
  const doc = html`<!doctype html>
<html lang="${locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${title} · ${s.siteName}</title>
<link rel="stylesheet" href="/styles/site.css">
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
</head>
<body>
<a class="skip-link" href="#main">${s.skipLink}</a>
<header class="site-header"><p class="site-name"><a href="/${locale}/">${s.siteName}</a></p></header>
<main id="main" tabindex="-1">
<h1>${title}</h1>
${body}
</main>
</body>
</html>
`;
  return new Response(doc.__html, {
    status,
    headers: { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" },
  });
}

/** The HTML rendering of an error, for browsers (form posts and worker-rendered pages). */
export function errorPage(error: ApiError, locale: Locale = DEFAULT_LOCALE): Response {
  const s = t(locale);
  const res = page({
    locale,
    title: s.errorPage.title,
    status: ERROR_STATUS[error.code],
    body: html`<p>${errorMessage(error.code, locale)}</p>
<p><a href="/${locale}/">${s.errorPage.back}</a></p>`,
  });
  for (const [k, v] of Object.entries(error.headers)) res.headers.set(k, v);
  return res;
}
