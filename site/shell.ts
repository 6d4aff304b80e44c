import type { Locale } from "../domain/schema/common.ts";
import type { Vendor } from "../domain/schema/vendor.ts";
import { escapeHtml } from "../emails/message.ts";
import { href, otherLocale, t } from "../i18n/index.ts";

// The header and footer of every page, the site's (site/layouts/Base.astro) and the worker's own (worker/pages/),
// written once, so a subscriber who follows a link from an email lands in the same site: skip link, vendor, language
// switch, navigation, who the processor is and how to reach it. Pure: strings in, HTML out.

export type Section = "list" | "annex" | "changes" | "dpa" | "subscribe" | "about";

export type ShellVendor = Pick<
  Vendor,
  "name" | "tagline" | "legalEntity" | "group" | "registration" | "address" | "privacyContact"
>;

export interface ShellInput {
  locale: Locale;
  vendor: ShellVendor;
  /** This page in the other language (the language switch). */
  alternate: string;
  /** Which navigation item is current. */
  section?: Section | undefined;
}

const NAV: readonly Section[] = ["list", "annex", "changes", "dpa", "subscribe", "about"];

function navHref(locale: Locale, section: Section): string {
  return section === "list" ? href(locale) : href(locale, section === "annex" ? "annex-c" : section);
}

/** The skip link and the page header with the language switch and the navigation. */
export function siteHeader({ locale, vendor, alternate, section }: ShellInput): string {
  const s = t(locale);
  const other = otherLocale(locale);
  const tagline = vendor.tagline?.[locale];
  const items = NAV.map(
    (key) =>
      `<li><a href="${navHref(locale, key)}"${section === key ? ' aria-current="page"' : ""}>${escapeHtml(s.nav[key])}</a></li>`,
  ).join("");
  return `<a class="skip" href="#main">${escapeHtml(s.skip)}</a>
<header class="site-header">
<div class="wrap header-row">
<p class="brand"><a href="${href(locale)}">${escapeHtml(vendor.name)}</a>${tagline ? ` <span class="tagline">${escapeHtml(tagline)}</span>` : ""}</p>
<a class="lang" href="${escapeHtml(alternate)}" hreflang="${other}" lang="${other}" title="${escapeHtml(s.switchToLabel)}">${escapeHtml(s.switchTo)}</a>
</div>
<nav class="wrap site-nav" aria-label="${escapeHtml(s.navLabel)}"><ul>${items}</ul></nav>
</header>`;
}

/** The page footer: the processor, where questions and objections go, the downloads, the no-cookies promise. */
export function siteFooter({ locale, vendor }: Pick<ShellInput, "locale" | "vendor">): string {
  const s = t(locale);
  const e = escapeHtml;
  return `<footer class="site-footer">
<div class="wrap footer-grid">
<section aria-labelledby="footer-processor">
<h2 id="footer-processor">${e(s.footer.processor)}</h2>
<p>${e(vendor.legalEntity)}${vendor.group ? `, ${e(vendor.group)}` : ""}<br>
${e(vendor.registration.label)} ${e(vendor.registration.number)}<br>
${e(vendor.address.street)}, ${e(vendor.address.postalCode ?? "")} ${e(vendor.address.city)}</p>
</section>
<section aria-labelledby="footer-privacy">
<h2 id="footer-privacy">${e(s.footer.privacy)}</h2>
<p><a href="mailto:${e(vendor.privacyContact)}">${e(vendor.privacyContact)}</a></p>
</section>
<section aria-labelledby="footer-exports">
<h2 id="footer-exports">${e(s.footer.exports)}</h2>
<ul class="plain">
<li><a href="/annex-c.json">${e(s.annex.json)}</a></li>
<li><a href="/annex-c.csv">${e(s.annex.csv)}</a></li>
<li><a href="/feed.xml">${e(s.annex.feed)}</a></li>
</ul>
</section>
</div>
<p class="wrap small">${e(s.footer.noCookies)}</p>
</footer>`;
}
