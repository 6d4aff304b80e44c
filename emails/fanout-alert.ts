import { layout } from "./layout.ts";
import { escapeHtml, type RenderedEmail } from "./message.ts";

/**
 * Alert to the vendor's privacy mailbox (VENDOR_ALERT_EMAIL): a change notice did not reach everyone it should have
 * yet (the fan-out's reconciler and dead-letter consumer). Counts and ids only, never subscriber addresses; the ledger
 * has the details.
 */
export function renderFanoutAlert(a: { subject: string; lines: readonly string[]; adminUrl: string }): RenderedEmail {
  const intro = "Ændringsmeddelelsen er endnu ikke nået ud til alle abonnenter; se hovedbogen.";
  return layout({
    locale: "en",
    subject: `Notice fan-out / udsendelse: ${a.subject}`,
    bodyHtml: `${a.lines.map((l) => `<p>${escapeHtml(l)}</p>`).join("\n")}
<p lang="da">${escapeHtml(intro)}</p>`,
    bodyText: [...a.lines, "", intro].join("\n"),
    footer: [{ label: "Ledger", url: a.adminUrl }],
    headers: {},
  });
}
