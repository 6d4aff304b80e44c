// A privacy officer subscribing with JavaScript switched off: the native form posts, the confirmation email arrives
// (read from the development outbox), its link opens a page whose button confirms (opening the link alone confirms
// nothing: mail scanners follow links), the welcome email's manage link changes preferences, and the unsubscribe
// link ends the subscription. Every page is also checked with axe-core in a second, script-enabled visitor.
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { emailLinks, type OutboxEmail, outbox, waitForEmail } from "../../testing/portal.ts";
import {
  expectAccessible,
  expectClean,
  expectPageBasics,
  hasChromium,
  launch,
  newContext,
  screenshot,
  visit,
  type Watch,
  watch,
} from "./browser.ts";

const base = inject("baseURL");
const origin = base ? new URL(base).origin : "";
const email = `e2e-subscriber-${Date.now()}@example.com`;

describe.skipIf(!hasChromium)("subscribing without JavaScript", () => {
  let browser: Browser;
  let noJs: BrowserContext;
  let page: Page;
  let w: Watch;
  let auditor: BrowserContext;
  let audit: Page;
  let confirmation: OutboxEmail;
  let manageUrl: string;

  beforeAll(async () => {
    browser = await launch();
    noJs = await newContext(browser, { javaScriptEnabled: false });
    page = await noJs.newPage();
    w = watch(page, origin);
    auditor = await newContext(browser);
    audit = await auditor.newPage();
  });

  afterAll(async () => {
    await noJs?.close();
    await auditor?.close();
    await browser?.close();
  });

  /** Submits the form holding `button` and waits for the page the 303 leads to. */
  async function press(button: string): Promise<void> {
    const target = page.locator(button).first();
    expect(await target.count(), `${button} on ${page.url()}`).toBe(1);
    await Promise.all([page.waitForEvent("load"), target.click()]);
  }

  /** A checkbox of the manage page's preferences form (the webhook form has region checkboxes too). */
  function preference(name: string, value: string) {
    return page.locator(`form:has(select[name="locale"]) input[name="${name}"][value="${value}"]`);
  }

  /** The same page in the script-enabled context, for axe (a GET never changes anything here). */
  async function accessible(url: string, lang: "da" | "en"): Promise<void> {
    await visit(audit, base, url, { lang });
    await expectAccessible(audit);
  }

  it("the native form posts the sign-up and lands on the 'check your email' page", async () => {
    await visit(page, base, "/en/subscribe/", { lang: "en" });
    await page.locator('input[name="email"]').fill(email);
    await page.locator('input[name="regions"][value="uk"]').check();
    await page.locator('input[name="topics"][value="dpa"]').uncheck();
    await screenshot(page, "subscribe-en");
    await press('form[action="/api/subscriptions"] button[type="submit"]');
    expect(new URL(page.url()).pathname).toBe("/en/subscribe/check/");
    await expectPageBasics(page, "en");
    expectClean(w);
  });

  it("sends one confirmation email in English with a confirm link and one-click unsubscribe headers", async () => {
    confirmation = await waitForEmail(base, email);
    expect(await outbox(base, { to: email })).toHaveLength(1);
    const headers = Object.fromEntries(Object.entries(confirmation.headers).map(([k, v]) => [k.toLowerCase(), v]));
    expect(headers["list-unsubscribe"]).toMatch(new RegExp(`^<${origin}/api/subscriptions/unsubscribe\\?token=`));
    expect(headers["list-unsubscribe-post"]).toBe("List-Unsubscribe=One-Click");
    expect(emailLinks(confirmation).some((l) => l.startsWith(`${origin}/en/subscription/confirm?token=`))).toBe(true);
  });

  it("opening the confirm link changes nothing; pressing its button confirms", async () => {
    const link = emailLinks(confirmation).find((l) => l.includes("/subscription/confirm?token="));
    expect(link).toBeDefined();
    await page.goto(link ?? "");
    await expectPageBasics(page, "en");
    await screenshot(page, "confirm-en");
    // A link scanner stops here: still only the confirmation email, no welcome email with a manage link.
    expect(await outbox(base, { to: email })).toHaveLength(1);
    await accessible(link ?? "", "en");
    await press('form[action="/api/subscriptions/confirm"] button[type="submit"]');
    expect(new URL(page.url()).pathname).toBe("/en/subscription/confirmed");
    await expectPageBasics(page, "en");
    expectClean(w);
  });

  it("the welcome email's manage link opens the manage page, where preferences change", async () => {
    const welcome = await waitForEmail(base, email, (e) => e.id !== confirmation.id);
    const link = emailLinks(welcome).find((l) => l.includes("/subscription/manage?token="));
    expect(link, "manage link in the welcome email").toBeDefined();
    manageUrl = link ?? "";
    await page.goto(manageUrl);
    await expectPageBasics(page, "en");
    expect(await page.locator("main").textContent()).toContain(email);
    expect(await preference("regions", "uk").isChecked()).toBe(true);
    expect(await preference("regions", "de").isChecked()).toBe(false);
    expect(await preference("topics", "dpa").isChecked()).toBe(false);
    await accessible(manageUrl, "en");
    await screenshot(page, "manage-en");

    // Follow Germany as well, hear about DPA versions too, and read everything in Danish from now on.
    await preference("regions", "de").check();
    await preference("topics", "dpa").check();
    await page.locator('select[name="locale"]').selectOption("da");
    await press('form:has(select[name="locale"]) button[type="submit"]');
    const saved = new URL(page.url());
    expect(saved.pathname).toBe("/da/subscription/manage");
    expect(saved.searchParams.get("saved")).toBe("1");
    await expectPageBasics(page, "da");
    expect(await page.locator('[role="status"]').count()).toBe(1);
    expect(await preference("regions", "de").isChecked()).toBe(true);
    expect(await preference("regions", "uk").isChecked()).toBe(true);
    expect(await preference("topics", "dpa").isChecked()).toBe(true);
    await accessible(page.url(), "da");

    // The API sees the same record.
    const token = new URL(manageUrl).searchParams.get("token") ?? "";
    const me = await fetch(`${base}/api/subscriptions/me`, { headers: { Authorization: `Bearer ${token}` } });
    expect(me.status).toBe(200);
    const body = JSON.stringify(await me.json());
    expect(body).toContain('"da"');
    expect(body).toMatch(/"regions":\["de","uk"\]|"regions":\["uk","de"\]/);
    expectClean(w);
  });

  it("the manage page adds a webhook endpoint, and the answer shows its secret once", async () => {
    await page.goto(manageUrl);
    const url = "http://127.0.0.1:9/e2e-hook";
    await page.locator("#webhook-url").fill(url);
    await page.locator("#webhook-description").fill("E2E receiver");
    await press('form[action="/api/webhooks/endpoints"] button[type="submit"]');
    await expectPageBasics(page);
    const secret = (await page.locator("main pre code").textContent()) ?? "";
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(await page.locator('main [role="status"]').count()).toBe(1);
    // The secret page is the answer to a POST: the auditor adds an endpoint of its own to see it.
    await visit(audit, base, manageUrl);
    await audit.locator("#webhook-url").fill(`${url}-audit`);
    await Promise.all([
      audit.waitForEvent("load"),
      audit.locator('form[action="/api/webhooks/endpoints"] button[type="submit"]').click(),
    ]);
    expect(await audit.locator("main pre code").count()).toBe(1);
    await expectAccessible(audit);
    await screenshot(page, "webhook-secret");

    await page.goto(manageUrl);
    const section = (await page.locator("main").textContent()) ?? "";
    expect(section).toContain(url);
    expect(section).not.toContain(secret);
    await accessible(manageUrl, (await page.locator("html").getAttribute("lang")) === "da" ? "da" : "en");
    expectClean(w);
  });

  it("the unsubscribe link opens a page whose button unsubscribes", async () => {
    const welcome = (await outbox(base, { to: email })).find((e) => e.id !== confirmation.id);
    const header = Object.entries(welcome?.headers ?? {}).find(([k]) => k.toLowerCase() === "list-unsubscribe")?.[1];
    const oneClick = /<([^>]+)>/.exec(header ?? "")?.[1];
    expect(oneClick, "List-Unsubscribe URL").toBeDefined();
    // A mail client without one-click support opens the URL: it shows a page with a button, it does not unsubscribe.
    await page.goto(oneClick ?? "");
    expect(new URL(page.url()).pathname).toMatch(/^\/(da|en)\/subscription\/unsubscribe$/);
    await expectPageBasics(page);
    await accessible(page.url(), (await page.locator("html").getAttribute("lang")) === "da" ? "da" : "en");
    const token = new URL(manageUrl).searchParams.get("token") ?? "";
    const before = await fetch(`${base}/api/subscriptions/me`, { headers: { Authorization: `Bearer ${token}` } });
    expect(JSON.stringify(await before.json())).toContain('"confirmed"');

    await press('form[action*="/api/subscriptions/unsubscribe"] button[type="submit"]');
    await expectPageBasics(page);
    await screenshot(page, "unsubscribed");
    const after = await fetch(`${base}/api/subscriptions/me`, { headers: { Authorization: `Bearer ${token}` } });
    expect(JSON.stringify(await after.json())).toContain('"unsubscribed"');
    // The manage page now offers to subscribe again.
    await page.goto(manageUrl);
    await expectPageBasics(page);
    expect(await page.locator('input[name="subscribed"][value="true"]').count()).toBe(1);
    expectClean(w);
  });

  it("'Erase my data' asks on a second page; going back keeps everything, confirming erases", async () => {
    const token = new URL(manageUrl).searchParams.get("token") ?? "";
    const me = () => fetch(`${base}/api/subscriptions/me`, { headers: { Authorization: `Bearer ${token}` } });
    await page.goto(manageUrl);
    await press('form[action$="/subscription/erase"] button[type="submit"]');
    expect(new URL(page.url()).pathname).toMatch(/^\/(da|en)\/subscription\/erase$/);
    await expectPageBasics(page);
    await accessible(page.url(), (await page.locator("html").getAttribute("lang")) === "da" ? "da" : "en");
    expect(await page.locator("main").textContent()).toContain(email);
    expect((await me()).status).toBe(200);

    // "No, keep my subscription" leads back to the manage page and erased nothing.
    await Promise.all([page.waitForEvent("load"), page.locator('main a[href*="/subscription/manage?token="]').click()]);
    expect(new URL(page.url()).pathname).toMatch(/\/subscription\/manage$/);
    expect((await me()).status).toBe(200);

    await press('form[action$="/subscription/erase"] button[type="submit"]');
    await press('form[action="/api/subscriptions/me"] button[type="submit"]');
    expect(new URL(page.url()).pathname).toMatch(/^\/(da|en)\/subscription\/erased$/);
    await expectPageBasics(page);
    expect((await me()).status).toBe(401);
    expectClean(w);
  });
});
