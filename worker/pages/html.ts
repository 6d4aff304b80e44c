/**
 * Server-rendered HTML for the pages the worker answers itself (confirm, manage, unsubscribe, erase, objection), in
 * the site's own shell (site/shell.ts: the same header, navigation, language switch and footer as every site page)
 * and stylesheet. Semantic markup, one h1, no scripts at all.
 */

import type { Locale } from "../../domain/schema/common.ts";
import { escapeHtml } from "../../emails/message.ts";
import { href, otherLocale, t } from "../../i18n/index.ts";
import { siteFooter, siteHeader } from "../../site/shell.ts";
import { DEFAULT_LOCALE, vendor } from "../env.ts";
import { type ApiError, ERROR_STATUS, type ErrorCode } from "../http/errors.ts";

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
  /**
   * This page in the other language, for the language switch: the same path and query under the other locale. Pages
   * only reached by a form post (a result, an error) switch to the other language's home page.
   */
  alternate?: (other: Locale) => string;
}

/** The same page under the other locale, query included (a token page stays the same page). */
export function samePage(path: string, query: Record<string, string> = {}): (other: Locale) => string {
  const q = new URLSearchParams(query).toString();
  return (other) => `/${other}/${path}${q ? `?${q}` : ""}`;
}

/** A whole page in the site's shell: lang attribute, skip link, header, one h1 (the title), footer. Never cached. */
export function page({ locale, title, body, status = 200, alternate }: PageOptions): Response {
  const other = otherLocale(locale);
  const shell = { locale, vendor, alternate: alternate ? alternate(other) : href(other) };
  const doc = html`<!doctype html>
<html lang="${locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${title} – ${vendor.name}</title>
<link rel="stylesheet" href="/styles/site.css">
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
</head>
<body>
${{ __html: siteHeader(shell) }}
<main id="main" class="wrap" tabindex="-1">
<h1>${title}</h1>
${body}
</main>
${{ __html: siteFooter(shell) }}
</body>
</html>
`;
  return new Response(doc.__html, {
    status,
    headers: { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" },
  });
}

/** The sentence for an API error code, in a language; the generic one for a code without its own. */
export function errorMessage(code: ErrorCode, locale: Locale): string {
  const messages: Partial<Record<ErrorCode, string>> = t(locale).errors;
  return messages[code] ?? t(locale).errors.generic;
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
