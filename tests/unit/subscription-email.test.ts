/** Email rendering is pure: data in, {subject, html, text, headers} out, in Danish and English. */
import { describe, expect, it } from "vitest";
import { loadContent } from "../../content-io/load-content.ts";
import { listUnsubscribeHeaders } from "../../emails/message.ts";
import { confirmationEmail, welcomeEmail } from "../../emails/subscription.ts";

const unsubscribeUrl = "https://portal.example/api/subscriptions/unsubscribe?token=T&locale=da";
const { content } = loadContent(".", "2026-11-23");
if (!content) throw new Error("the shipped content should validate");
const vendor = content.vendor;
const confirmLinks = (confirm: string) => ({ confirm, oneClickUnsubscribe: unsubscribeUrl });

describe.each(["da", "en"] as const)("%s", (locale) => {
  const confirm = confirmationEmail({
    locale,
    vendor,
    links: confirmLinks(`https://portal.example/${locale}/subscription/confirm?token=C`),
  });
  const welcome = welcomeEmail({
    locale,
    vendor,
    links: {
      manage: `https://portal.example/${locale}/subscription/manage?token=M`,
      oneClickUnsubscribe: unsubscribeUrl,
    },
    topics: ["subprocessors"],
    regions: ["uk", "ch"],
  });

  it("confirmation: subject, html with lang and the link, text with the link, 48-hour note", () => {
    expect(confirm.subject.length).toBeGreaterThan(10);
    expect(confirm.html).toContain(`<html lang="${locale}">`);
    expect(confirm.html).toContain(`href="https://portal.example/${locale}/subscription/confirm?token=C"`);
    expect(confirm.text).toContain(`https://portal.example/${locale}/subscription/confirm?token=C`);
    expect(confirm.text).toContain("48");
    expect(confirm.text).not.toMatch(/<[a-z]/i);
  });

  it("welcome: the manage link, the chosen topics and regions by name", () => {
    expect(welcome.text).toContain(`https://portal.example/${locale}/subscription/manage?token=M`);
    expect(welcome.text).toContain(locale === "da" ? "Storbritannien" : "United Kingdom");
    expect(welcome.text).toContain(locale === "da" ? "Schweiz" : "Switzerland");
    expect(welcome.html).not.toContain("Canada"); // not chosen
  });

  it("every email carries List-Unsubscribe and one-click List-Unsubscribe-Post, and the link in its footer", () => {
    for (const email of [confirm, welcome]) {
      expect(email.headers).toEqual(listUnsubscribeHeaders(unsubscribeUrl));
      expect(email.headers["List-Unsubscribe"]).toBe(`<${unsubscribeUrl}>`);
      expect(email.headers["List-Unsubscribe-Post"]).toBe("List-Unsubscribe=One-Click");
      expect(email.text).toContain(unsubscribeUrl);
      expect(email.html).toContain(unsubscribeUrl.replace("&", "&amp;"));
    }
  });
});

it("the two languages differ (nothing left untranslated)", () => {
  const da = confirmationEmail({ locale: "da", vendor, links: confirmLinks("https://x.example/c") });
  const en = confirmationEmail({ locale: "en", vendor, links: confirmLinks("https://x.example/c") });
  expect(da.subject).not.toBe(en.subject);
  expect(da.text).not.toBe(en.text);
});

it("escapes values in the html", () => {
  const email = confirmationEmail({ locale: "en", vendor, links: confirmLinks('https://x.example/c?a="><script>') });
  expect(email.html).not.toContain('"><script>');
  expect(email.html).toContain("&quot;&gt;&lt;script&gt;");
});

it("names the vendor in the Danish genitive: a name ending in s takes a bare apostrophe", () => {
  const da = welcomeEmail({
    locale: "da",
    vendor: { ...vendor, name: "MOCH A/S" },
    links: { manage: "https://x.example/m", oneClickUnsubscribe: unsubscribeUrl },
    topics: ["subprocessors"],
    regions: [],
  });
  expect(da.text).toContain("besked om MOCH A/S' underdatabehandlere");
  expect(da.text).not.toContain("A/Ss");
});
