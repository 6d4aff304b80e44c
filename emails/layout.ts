import type { Locale } from "../domain/schema/common.ts";
import { escapeHtml, type RenderedEmail } from "./message.ts";

// The one shell every email shares: language, title, preheader, a centred column, a footer. HTML mail gets inline
// styles and nested tables only, no images and nothing remote (mail clients strip the rest); the text part is the
// same message for clients that show no HTML.

/** A link in a footer: a link in the HTML part, "label: url" in the text part. */
export interface FooterLink {
  label: string;
  url: string;
}

export interface LayoutInput {
  locale: Locale;
  subject: string;
  /** Short text mail clients show next to the subject. */
  preheader?: string | undefined;
  /** Body blocks, already HTML (every value escaped). */
  bodyHtml: string;
  /** The same body as plain text. */
  bodyText: string;
  /** Footer lines, one a line: why this email came, where to change that, whom to ask. */
  footer: readonly (string | FooterLink)[];
  /** Headers the email carries (List-Unsubscribe for every email to a subscriber). */
  headers: Record<string, string>;
  /** Width of the column in pixels; a notice carries the full Annex C table and is wider. */
  width?: number;
}

export function layout(input: LayoutInput): RenderedEmail {
  const pre = input.preheader
    ? `<div style="display:none;max-height:0;overflow:hidden">${escapeHtml(input.preheader)}</div>\n`
    : "";
  const footerHtml = input.footer
    .map((line) =>
      typeof line === "string" ? escapeHtml(line) : `<a href="${escapeHtml(line.url)}">${escapeHtml(line.label)}</a>`,
    )
    .join("<br>");
  const footerText = input.footer.map((line) => (typeof line === "string" ? line : `${line.label}: ${line.url}`));
  const html = `<!doctype html>
<html lang="${input.locale}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(input.subject)}</title></head>
<body style="margin:0;padding:0;background:#ffffff;color:#1a1a1a;font-family:Arial,Helvetica,sans-serif;line-height:1.5">
${pre}<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0"><tr><td style="padding:16px">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="max-width:${input.width ?? 600}px;margin:0 auto"><tr><td>
${input.bodyHtml}
<hr style="border:0;border-top:1px solid #c8c8c8;margin:32px 0 16px">
<p style="font-size:13px;color:#555555">${footerHtml}</p>
</td></tr></table>
</td></tr></table>
</body>
</html>
`;
  const text = `${input.bodyText.trim()}

--
${footerText.join("\n")}
`;
  return { subject: input.subject, html, text, headers: input.headers };
}

/** Text the reader wrote (an objection's reason, a staff note), quoted as given: escaped, line breaks kept. */
export function quoted(text: string): string {
  return `<blockquote style="border-left:3px solid #c8c8c8;margin:0;padding:0 12px;white-space:pre-wrap">${escapeHtml(text)}</blockquote>`;
}

/** A call to action: a button-like link, and the address written out for clients that hide links. */
export function button(url: string, label: string): string {
  return `<table role="presentation" cellpadding="0" cellspacing="0" border="0"><tr><td style="background:#0b5394;border-radius:4px"><a href="${escapeHtml(url)}" style="display:inline-block;padding:10px 18px;color:#ffffff;text-decoration:none;font-weight:bold">${escapeHtml(label)}</a></td></tr></table>
<p style="font-size:13px;word-break:break-all"><a href="${escapeHtml(url)}">${escapeHtml(url)}</a></p>`;
}
