/**
 * The email message, the one shape every renderer returns and every transport takes, and the few rules every message
 * obeys whoever built it: HTML escaping, the List-Unsubscribe headers, one line per header.
 * Pure: no I/O and no worker bindings, so the send loop, the scripts and the unit tests import it in Node as well.
 */
import type { EmailTag } from "../domain/notice.ts";

/** What a renderer produces: data in, this out. */
export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
  headers: Record<string, string>;
}

/** A rendered email with its recipient: what the email port sends. */
export interface OutgoingEmail extends RenderedEmail {
  to: string;
  /** Provider tags, sent back with every event about the email (domain/notice.ts deliveryTags). */
  tags?: readonly EmailTag[] | undefined;
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Escapes text for HTML element content and quoted attributes. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (ch) => ESCAPES[ch] ?? ch);
}

/**
 * RFC 2369 + RFC 8058: mail clients show an unsubscribe button that POSTs `List-Unsubscribe=One-Click` to the URL.
 * Every email to a subscriber carries both headers.
 */
export function listUnsubscribeHeaders(oneClickUrl: string): Record<string, string> {
  return { "List-Unsubscribe": `<${oneClickUrl}>`, "List-Unsubscribe-Post": "List-Unsubscribe=One-Click" };
}

// RFC 5322 §2.2: a header field is one line; a CR or LF inside a value would end it and start another header (a
// Bcc, a second Subject). Values are checked at the edge (the worker's request validation), but a subject or header
// is built from many sources (content, vendor.yaml, stored rows), so every message is made safe once more on its way
// out: the email port passes each message through `headerSafe`.
// biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
const HEADER_BREAKS = /[\u0000-\u001f\u007f\u2028\u2029]+/gu;

function oneLine(value: string): string {
  return value.replace(HEADER_BREAKS, " ");
}

/** The message with each run of line breaks or control characters in recipient, subject and headers made a space. */
export function headerSafe(message: OutgoingEmail): OutgoingEmail {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers)) headers[oneLine(name)] = oneLine(value);
  return { ...message, to: oneLine(message.to), subject: oneLine(message.subject), headers };
}
