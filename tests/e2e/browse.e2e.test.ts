// A customer reading the portal: the list in Danish and English, filtered to their region, one sub-processor, the other
// language, Annex C's history with a version diff, and the DPA archive. Every page is checked for console errors,
// foreign requests, <title>, <html lang>, one h1 and a skip link, and the main pages are saved as screenshots.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { expectClean, expectPageBasics, hasChromium, openPage, screenshot, visit, type Watch } from "./browser.ts";

const base = inject("baseURL");
const origin = base ? new URL(base).origin : "";

describe.skipIf(!hasChromium)("browsing the portal", () => {
  let page: Page;
  let w: Watch;
  let close = async () => {};

  beforeAll(async () => {
    ({ page, w, close } = await openPage(origin));
  });

  afterAll(() => close());

  /** Follows a link the way a visitor does, then checks the page it lands on. */
  async function follow(selector: string, lang: "da" | "en"): Promise<void> {
    const link = page.locator(selector).first();
    expect(await link.count(), `link ${selector} on ${page.url()}`).toBe(1);
    await Promise.all([page.waitForEvent("load"), link.click()]);
    await expectPageBasics(page, lang);
  }

  const path = () => new URL(page.url()).pathname;
  const mainText = async () => ((await page.locator("main").textContent()) ?? "").replace(/\s+/g, " ");

  it("the root sends an English-speaking browser to /en/", async () => {
    await visit(page, base, "/", { lang: "en" });
    expect(path()).toBe("/en/");
  });

  it("opens the list in Danish and in English", async () => {
    for (const lang of ["da", "en"] as const) {
      await visit(page, base, `/${lang}/`, { lang });
      const rows = page.locator(`main a[href^="/${lang}/subprocessors/"]`);
      expect(await rows.count()).toBeGreaterThanOrEqual(5);
      await screenshot(page, `list-${lang}`);
    }
    expect(await page.locator("h1").textContent()).toBe("Sub-processors");
    expectClean(w);
  });

  it("filters the list by region: the UK list has the UK data centres and none in Canada", async () => {
    // The processing locations of every table on the page (the region links above it name every region).
    const places = async () =>
      (await page.locator('td[data-label="Locations"]').allTextContents()).map((t) => t.trim());
    await visit(page, base, "/en/", { lang: "en" });
    expect(await places()).toContain("Canada");
    await follow('nav.filter a[href="/en/regions/uk/"]', "en");
    expect(path()).toBe("/en/regions/uk/");
    expect(await places()).toContain("United Kingdom");
    expect(await places()).not.toContain("Canada");
    expect(await page.locator('nav.filter a[aria-current="page"]').getAttribute("href")).toBe("/en/regions/uk/");
    await screenshot(page, "region-uk-en");
    expectClean(w);
  });

  it("opens a sub-processor and switches its page to Danish", async () => {
    await visit(page, base, "/en/", { lang: "en" });
    await follow('main a[href="/en/subprocessors/microsoft-azure/"]', "en");
    expect(path()).toBe("/en/subprocessors/microsoft-azure/");
    expect(await page.locator("h1").textContent()).toContain("Microsoft Azure");
    await screenshot(page, "subprocessor-en");
    await follow("a.lang", "da");
    expect(path()).toBe("/da/subprocessors/microsoft-azure/");
    expect(await page.locator("h1").textContent()).toContain("Microsoft Azure");
    await follow("a.lang", "en");
    expect(path()).toBe("/en/subprocessors/microsoft-azure/");
    expectClean(w);
  });

  it("opens Annex C, its history and the diff of the 1 July 2024 version", async () => {
    await visit(page, base, "/en/annex-c/", { lang: "en" });
    expect(await mainText()).toMatch(/[0-9a-f]{64}/);
    await screenshot(page, "annex-c-en");
    await follow('main a[href="/en/annex-c/2023-10-01/"]', "en");
    expect(await page.locator("h1").textContent()).toContain("1 October 2023");
    expect(await mainText()).toContain("MetaCompliance");
    await visit(page, base, "/en/annex-c/", { lang: "en" });
    await follow('main a[href="/en/annex-c/2024-07-01/"]', "en");
    const diff = page.locator("#what-changed");
    expect(await diff.count()).toBe(1);
    const changed = await mainText();
    // The July 2024 version added MOCH A/S and Twilio SendGrid and dropped MetaCompliance Ireland Ltd.
    expect(changed).toContain("MOCH A/S");
    expect(changed).toContain("SendGrid");
    expect(changed).toContain("MetaCompliance Ireland");
    await screenshot(page, "annex-c-2024-07-01-en");
    await visit(page, base, "/da/annex-c/2024-07-01/", { lang: "da" });
    expect(await page.locator("#what-changed").count()).toBe(1);
    expectClean(w);
  });

  it("opens the current DPA and an archived version in both languages", async () => {
    for (const lang of ["en", "da"] as const) {
      await visit(page, base, `/${lang}/dpa/`, { lang });
      expect(await page.locator("#archive").count()).toBe(1);
      await follow(`main a[href="/${lang}/dpa/2023-10-01/"]`, lang);
      expect(path()).toBe(`/${lang}/dpa/2023-10-01/`);
      expect(await page.locator("h1").textContent()).toMatch(/2023/);
      await screenshot(page, `dpa-archived-${lang}`);
    }
    expectClean(w);
  });

  it("opens the change log and one change", async () => {
    await visit(page, base, "/en/changes/", { lang: "en" });
    await follow('main a[href="/en/changes/2024-07-01-moch-added/"]', "en");
    expect(await mainText()).toContain("MOCH");
    await screenshot(page, "change-en");
    expectClean(w);
  });

  it("answers an unknown page with the 404 page, still a proper page", async () => {
    const before = w.consoleErrors.length;
    await visit(page, base, "/en/no-such-page/", { status: 404 });
    // Chromium reports the document's own 404 status on the console; that line is the expected outcome.
    const notFound = `${base}/en/no-such-page/: Failed to load resource: the server responded with a status of 404 (Not Found)`;
    expect(w.consoleErrors.slice(before).filter((e) => e !== notFound)).toEqual([]);
    w.consoleErrors.splice(before);
    expectClean(w);
  });
});
