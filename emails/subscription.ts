import type { NoticeTopic } from "../domain/notice.ts";
import type { Locale } from "../domain/schema/common.ts";
import type { Vendor } from "../domain/schema/vendor.ts";
import { regionName, t } from "../i18n/index.ts";
import { button, layout } from "./layout.ts";
import type { SubscriberLinks } from "./links.ts";
import { escapeHtml, listUnsubscribeHeaders, type RenderedEmail } from "./message.ts";

// The emails of a subscription's life: the double opt-in confirmation and the welcome with the manage link. Every one
// carries List-Unsubscribe (the one-click address) and names it in its footer.

function footer(locale: Locale, vendor: Pick<Vendor, "name">, oneClickUnsubscribe: string) {
  const s = t(locale).email;
  return [s.footerWhy(vendor.name), { label: s.unsubscribeLabel, url: oneClickUnsubscribe }];
}

export interface ConfirmationInput {
  locale: Locale;
  vendor: Pick<Vendor, "name">;
  links: Pick<SubscriberLinks, "confirm" | "oneClickUnsubscribe">;
}

/** Double opt-in: the link opens a page with a button, so link scanners cannot confirm. */
export function confirmationEmail({ locale, vendor, links }: ConfirmationInput): RenderedEmail {
  const c = t(locale).email.confirm;
  return layout({
    locale,
    subject: c.subject(vendor.name),
    preheader: c.preheader,
    footer: footer(locale, vendor, links.oneClickUnsubscribe),
    headers: listUnsubscribeHeaders(links.oneClickUnsubscribe),
    bodyHtml: `<p>${escapeHtml(c.intro(vendor.name))}</p>
${button(links.confirm, c.button)}
<p>${escapeHtml(c.expiry)}</p>
<p>${escapeHtml(c.ignore)}</p>`,
    bodyText: `${c.intro(vendor.name)}

${links.confirm}

${c.expiry}
${c.ignore}`,
  });
}

export interface WelcomeInput {
  locale: Locale;
  vendor: Pick<Vendor, "name" | "regions">;
  links: Pick<SubscriberLinks, "manage" | "oneClickUnsubscribe">;
  topics: readonly NoticeTopic[];
  regions: readonly string[];
}

/** After confirming: what the subscription covers, and the manage link that is the subscriber's way back in. */
export function welcomeEmail({ locale, vendor, links, ...input }: WelcomeInput): RenderedEmail {
  const s = t(locale);
  const w = s.email.welcome;
  const topics = input.topics.map((topic) => s.topics[topic]);
  const regions = input.regions.map((id) => regionName(vendor, id, locale));
  const list = (items: string[]) => `<ul>${items.map((i) => `<li>${escapeHtml(i)}</li>`).join("")}</ul>`;
  return layout({
    locale,
    subject: w.subject(vendor.name),
    footer: footer(locale, vendor, links.oneClickUnsubscribe),
    headers: listUnsubscribeHeaders(links.oneClickUnsubscribe),
    bodyHtml: `<p>${escapeHtml(w.intro(vendor.name))}</p>
<p>${escapeHtml(w.summaryTopics)}:</p>
${list(topics)}
<p>${escapeHtml(w.summaryRegions)}:</p>
${list(regions)}
<p>${escapeHtml(w.manage)}</p>
${button(links.manage, w.manageButton)}
<p>${escapeHtml(w.keep)}</p>`,
    bodyText: `${w.intro(vendor.name)}

${w.summaryTopics}:
${topics.map((x) => `- ${x}`).join("\n")}

${w.summaryRegions}:
${regions.map((x) => `- ${x}`).join("\n")}

${w.manage}
${links.manage}

${w.keep}`,
  });
}
