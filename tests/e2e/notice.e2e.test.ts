// A change published by staff, as a subscriber lives it: the portal runs with the shipped content and records its
// baseline publication; staff add a sub-processor (announced today, effective after the DPA 5.2 notice period) and
// deploy; the publish check sends the notice; the subscriber opens it, follows its objection link and objects within
// the DPA 5.3 window, then leaves with the RFC 8058 one-click unsubscribe.
//
// This file runs its own portal in its own copy of the checkout, because it edits content and restarts the server
// (`npm start` rebuilds the site, so the deployed /annex-c.json changes; the local D1 database is kept).
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readRawContent } from "../../content-io/load-content.ts";
import { objectionDeadline } from "../../domain/calendar.ts";
import { formatDate } from "../../domain/labels.ts";
import { Vendor } from "../../domain/schema/vendor.ts";
import { addSubProcessor, effective } from "../../testing/content-change.ts";
import {
  copyCheckout,
  emailLinks,
  type OutboxEmail,
  outbox,
  type Portal,
  REPO_ROOT,
  removeCopy,
  startPortal,
  waitForEmail,
} from "../../testing/portal.ts";
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

const SUBSCRIBER = `e2e-notice-${Date.now()}@example.com`;
const NEW_ID = "example-support-desk";
async function publish(portal: Portal): Promise<{ status: string; sequence: number; fingerprint: string }> {
  const res = await fetch(`${portal.url}/api/admin/publish`, {
    method: "POST",
    headers: { Authorization: `Bearer ${portal.adminToken}` },
  });
  const body = (await res.json()) as { status: string; sequence: number; fingerprint: string };
  expect([200, 201], JSON.stringify(body)).toContain(res.status);
  return body;
}

const header = (email: OutboxEmail, name: string) =>
  Object.entries(email.headers).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];

describe.skipIf(!hasChromium)("a published change, from notice to objection to unsubscribe", () => {
  let dir: string;
  let portal: Portal;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let w: Watch;
  let manageToken: string;
  let notice: OutboxEmail;

  beforeAll(async () => {
    dir = copyCheckout("portal-e2e-notice-");
    portal = await startPortal({ dir });
    browser = await launch();
    context = await newContext(browser);
    page = await context.newPage();
    w = watch(page, portal.url);
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await portal?.stop();
    if (dir) removeCopy(dir);
  });

  it("a subscriber signs up and confirms (all regions, both topics)", async () => {
    const res = await fetch(`${portal.url}/api/subscriptions`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email: SUBSCRIBER, locale: "en" }),
    });
    expect(res.status).toBe(202);
    const confirmation = await waitForEmail(portal.url, SUBSCRIBER);
    const token = new URL(
      emailLinks(confirmation).find((l) => l.includes("/subscription/confirm?")) ?? "",
    ).searchParams.get("token");
    const confirmed = await fetch(`${portal.url}/api/subscriptions/confirm`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ token }),
    });
    expect(confirmed.status).toBe(200);
    const welcome = await waitForEmail(portal.url, SUBSCRIBER, (e) => e.id !== confirmation.id);
    manageToken =
      new URL(emailLinks(welcome).find((l) => l.includes("/subscription/manage?")) ?? "").searchParams.get("token") ??
      "";
    expect(manageToken).toMatch(/^[A-Za-z0-9_-]{20,}$/);
  });

  it("the first publish check records the shipped list as the baseline and mails nobody; a second is a no-op", async () => {
    const before = (await outbox(portal.url, { to: SUBSCRIBER })).length;
    const baseline = await publish(portal);
    expect(baseline.status).toBe("baseline");
    const again = await publish(portal);
    expect(again.status).toBe("unchanged");
    expect(again.fingerprint).toBe(baseline.fingerprint);
    expect((await outbox(portal.url, { to: SUBSCRIBER })).length).toBe(before);
  });

  it("staff add a sub-processor and deploy: the site shows it as upcoming, the publish check sends the notice", async () => {
    const { fingerprint: baseline } = (await (await fetch(`${portal.url}/api/health`)).json()) as {
      fingerprint: string;
    };
    await portal.stop();
    addSubProcessor(dir, NEW_ID, "Example Support Desk");
    portal = await startPortal({ dir, port: portal.port });
    const health = (await (await fetch(`${portal.url}/api/health`)).json()) as { fingerprint: string };
    // The fingerprint changes the day the change is announced, not the day it takes effect.
    expect(health.fingerprint).not.toBe(baseline);

    await visit(page, portal.url, "/en/", { lang: "en" });
    const upcoming = ((await page.locator("main").textContent()) ?? "").replace(/\s+/g, " ");
    expect(upcoming).toContain("Example Support Desk");
    await screenshot(page, "upcoming-change-en");

    const published = await publish(portal);
    expect(published.status).toBe("published");
    expect(published.fingerprint).toBe(health.fingerprint);
    notice = await waitForEmail(portal.url, SUBSCRIBER, (e) => e.html.includes("Example Support Desk"), 60_000);
    // Exactly once, even though the publish check runs again.
    expect((await publish(portal)).status).toBe("unchanged");
    const chain = (await (await fetch(`${portal.url}/api/publications`)).json()) as unknown;
    expect(JSON.stringify(chain)).toContain(baseline);
    expect(JSON.stringify(chain)).toContain(health.fingerprint);
  });

  it("the notice carries the change, its effective date, the objection deadline and the full Annex C", async () => {
    const text = notice.text.replace(/\s+/g, " ");
    expect(text).toContain("Example Support Desk");
    // The full updated Annex C, not just the change: the existing sub-processors are listed too.
    expect(text).toContain("Microsoft Azure");
    expect(text).toMatch(/Deadline for objections/i);
    expect(text).toContain(formatDate(effective, "en"));
    // DPA 5.3: 10 Danish working days from receipt. The email was written when it was handed over (moments before its
    // outbox row), so the deadline it states is the one the domain computes from that moment with the vendor's calendar.
    const vendor = Vendor.parse(readRawContent(REPO_ROOT).vendor.data);
    const deadline = objectionDeadline(
      new Date(notice.createdAt),
      vendor.workingDayCalendar,
      vendor.objectionWorkingDays,
    );
    expect(text).toContain(formatDate(deadline, "en"));
    expect(deadline < effective).toBe(true);
    expect(header(notice, "List-Unsubscribe")).toMatch(
      /^<http:\/\/127\.0\.0\.1:\d+\/api\/subscriptions\/unsubscribe\?/,
    );
    expect(header(notice, "List-Unsubscribe-Post")).toBe("List-Unsubscribe=One-Click");
  });

  it("the notice's objection link opens the objection form, and the objection is received", async () => {
    // The email as the subscriber's mail client shows it, then the click on its objection button.
    await page.setContent(notice.html);
    const link = page.locator('a[href*="/subscription/object/"]').first();
    expect(await link.count()).toBe(1);
    await Promise.all([page.waitForEvent("load"), link.click()]);
    await expectPageBasics(page, "en");
    expect(new URL(page.url()).pathname).toMatch(/^\/en\/subscription\/object\/\d+$/);
    await expectAccessible(page);
    await screenshot(page, "objection-form-en");

    await page.locator('input[name="organisation"]').fill("Example Customer A/S");
    await page.locator('textarea[name="reason"]').fill("We have not assessed this helpdesk provider yet.");
    await Promise.all([page.waitForEvent("load"), page.locator('form button[type="submit"]').click()]);
    expect(new URL(page.url()).pathname).toBe("/en/subscription/objected");
    await expectPageBasics(page, "en");

    const receipt = await waitForEmail(
      portal.url,
      SUBSCRIBER,
      (e) => e.id > notice.id && e.text.includes("Example Customer A/S"),
    );
    expect(receipt.subject.length).toBeGreaterThan(0);
    const alerts = await outbox(portal.url);
    expect(
      alerts.some((e) => e.to !== SUBSCRIBER && e.text.includes("We have not assessed this helpdesk provider")),
    ).toBe(true);
    expectClean(w);
  });

  it("one-click unsubscribe (RFC 8058) answers 200 without a redirect and ends the subscription", async () => {
    const url = /<([^>]+)>/.exec(header(notice, "List-Unsubscribe") ?? "")?.[1] ?? "";
    const res = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "List-Unsubscribe=One-Click",
      redirect: "manual",
    });
    expect(res.status).toBe(200);
    await res.body?.cancel();
    const me = await fetch(`${portal.url}/api/subscriptions/me`, {
      headers: { Authorization: `Bearer ${manageToken}` },
    });
    expect(JSON.stringify(await me.json())).toContain('"unsubscribed"');
  });
});
