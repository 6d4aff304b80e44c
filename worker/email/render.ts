/**
 * Email rendering: pure functions from data to `{subject, html, text, headers}`, in Danish and
 * English. No I/O, no clock — links and dates come in as arguments. Every email carries
 * List-Unsubscribe (an HTTPS link with the token) and List-Unsubscribe-Post (RFC 8058 one-click).
 */
import type { NoticeTopic as Topic } from "../../domain/notice.ts";
import type { Locale } from "../../domain/schema/common.ts";
import { regionName, t } from "../i18n.ts";
import { escapeHtml } from "../pages/html.ts";

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
  headers: Record<string, string>;
}

/** RFC 2369 + RFC 8058 headers: mail clients show an unsubscribe button that POSTs to the URL. */
export function listUnsubscribeHeaders(unsubscribeUrl: string): Record<string, string> {
  return {
    "List-Unsubscribe": `<${unsubscribeUrl}>`,
    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
  };
}

export interface LayoutInput {
  locale: Locale;
  subject: string;
  /** Short text shown by mail clients next to the subject. */
  preheader?: string;
  /** Body blocks, already HTML (escape every value!). */
  bodyHtml: string;
  /** The same body as plain text. */
  bodyText: string;
  unsubscribeUrl: string;
  /** Extra headers (e.g. a notice id); List-Unsubscribe headers are always added. */
  headers?: Record<string, string>;
}

/** The frame every email shares: language, footer with why you get it and an unsubscribe link. */
export function layout(input: LayoutInput): RenderedEmail {
  const s = t(input.locale);
  const pre = input.preheader
    ? `<div style="display:none;max-height:0;overflow:hidden">${escapeHtml(input.preheader)}</div>`
    : "";
  const html = `<!doctype html>
<html lang="${input.locale}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(input.subject)}</title></head>
<body style="margin:0;padding:24px;font-family:system-ui,-apple-system,'Segoe UI',sans-serif;line-height:1.5;color:#1a1a1a;background:#ffffff">
${pre}<div style="max-width:600px;margin:0 auto">
${input.bodyHtml}
<hr style="border:none;border-top:1px solid #cccccc;margin:32px 0 16px">
<p style="font-size:14px;color:#555555">${escapeHtml(s.email.footerWhy)} <a href="${escapeHtml(input.unsubscribeUrl)}">${escapeHtml(s.email.unsubscribeLabel)}</a></p>
</div>
</body>
</html>
`;
  const text = `${input.bodyText.trim()}

--
${s.email.footerWhy}
${s.email.unsubscribeLabel}: ${input.unsubscribeUrl}
`;
  return {
    subject: input.subject,
    html,
    text,
    headers: { ...input.headers, ...listUnsubscribeHeaders(input.unsubscribeUrl) },
  };
}

export function button(url: string, label: string): string {
  return `<p><a href="${escapeHtml(url)}" style="display:inline-block;padding:12px 20px;background:#0b5394;color:#ffffff;text-decoration:none;border-radius:4px">${escapeHtml(label)}</a></p>
<p style="font-size:14px;word-break:break-all"><a href="${escapeHtml(url)}">${escapeHtml(url)}</a></p>`;
}

export interface ConfirmationInput {
  locale: Locale;
  /** The page with the confirm button: /{locale}/subscription/confirm?token=… */
  confirmUrl: string;
  unsubscribeUrl: string;
}

/** Double opt-in: the link opens a page with a button, so link scanners cannot confirm. */
export function confirmationEmail(input: ConfirmationInput): RenderedEmail {
  const c = t(input.locale).email.confirm;
  return layout({
    locale: input.locale,
    subject: c.subject,
    preheader: c.preheader,
    unsubscribeUrl: input.unsubscribeUrl,
    bodyHtml: `<p>${escapeHtml(c.intro)}</p>
${button(input.confirmUrl, c.button)}
<p>${escapeHtml(c.expiry)}</p>
<p>${escapeHtml(c.ignore)}</p>`,
    bodyText: `${c.intro}

${input.confirmUrl}

${c.expiry}
${c.ignore}`,
  });
}

export interface WelcomeInput {
  locale: Locale;
  manageUrl: string;
  unsubscribeUrl: string;
  topics: readonly Topic[];
  regions: readonly string[];
}

export function welcomeEmail(input: WelcomeInput): RenderedEmail {
  const s = t(input.locale);
  const w = s.email.welcome;
  const topics = input.topics.map((topic) => s.topics[topic]);
  const regions = input.regions.map((id) => regionName(id, input.locale));
  const list = (items: string[]) => `<ul>${items.map((i) => `<li>${escapeHtml(i)}</li>`).join("")}</ul>`;
  return layout({
    locale: input.locale,
    subject: w.subject,
    unsubscribeUrl: input.unsubscribeUrl,
    bodyHtml: `<p>${escapeHtml(w.intro)}</p>
<p>${escapeHtml(w.summaryTopics)}:</p>
${list(topics)}
<p>${escapeHtml(w.summaryRegions)}:</p>
${list(regions)}
<p>${escapeHtml(w.manage)}</p>
${button(input.manageUrl, w.manageButton)}
<p>${escapeHtml(w.keep)}</p>`,
    bodyText: `${w.intro}

${w.summaryTopics}:
${topics.map((x) => `- ${x}`).join("\n")}

${w.summaryRegions}:
${regions.map((x) => `- ${x}`).join("\n")}

${w.manage}
${input.manageUrl}

${w.keep}`,
  });
}
