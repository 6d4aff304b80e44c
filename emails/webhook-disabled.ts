import type { Locale } from "../domain/schema/common.ts";
import { t } from "../i18n/index.ts";
import { layout } from "./layout.ts";
import type { SubscriberLinks } from "./links.ts";
import { escapeHtml, listUnsubscribeHeaders, type RenderedEmail } from "./message.ts";

// To the subscriber who owns a webhook endpoint (README "Webhooks"): every attempt of three publications in a row
// failed, so the endpoint is disabled. The notices keep coming by email; the manage page tests it back to active.

export interface WebhookDisabledInput {
  locale: Locale;
  vendorName: string;
  endpointUrl: string;
  publications: number;
  links: Pick<SubscriberLinks, "manage" | "oneClickUnsubscribe">;
}

export function renderWebhookDisabled(input: WebhookDisabledInput): RenderedEmail {
  const s = t(input.locale).webhookDisabled;
  const body = s.body(input.endpointUrl, input.publications);
  return layout({
    locale: input.locale,
    subject: s.subject(input.vendorName),
    bodyHtml: `<p>${escapeHtml(body)}</p>\n<p>${escapeHtml(s.next)}</p>`,
    bodyText: [body, "", s.next].join("\n"),
    footer: [{ label: s.manage, url: input.links.manage }],
    headers: listUnsubscribeHeaders(input.links.oneClickUnsubscribe),
  });
}
