// Annex C is something customers print or save as PDF for their records: the print stylesheet must give a clean
// document (no navigation, no forms, no skip link) and Chromium must render it to PDF.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ARTIFACTS, expectClean, hasChromium, openPage, visit, type Watch } from "./browser.ts";

const base = inject("baseURL");
const origin = base ? new URL(base).origin : "";

describe.skipIf(!hasChromium)("printing Annex C", () => {
  let page: Page;
  let w: Watch;
  let close = async () => {};

  beforeAll(async () => {
    ({ page, w, close } = await openPage(origin));
  });

  afterAll(() => close());

  it("renders /en/annex-c/ to a multi-page PDF", async () => {
    await visit(page, base, "/en/annex-c/", { lang: "en" });
    const pdf = await page.pdf({ format: "A4", printBackground: false });
    expect(pdf.subarray(0, 5).toString("latin1")).toBe("%PDF-");
    // Annex C lists every sub-processor with its locations: more than a page's worth.
    const pages = pdf.toString("latin1").match(/\/Type\s*\/Page[^s]/g) ?? [];
    expect(pages.length).toBeGreaterThan(1);
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(join(ARTIFACTS, "annex-c-en.pdf"), pdf);
    expectClean(w);
  });

  it("hides navigation, the language switch, the skip link and forms in print, and keeps the list", async () => {
    for (const path of ["/en/annex-c/", "/en/", "/da/subscribe/"]) {
      await visit(page, base, path);
      await page.emulateMedia({ media: "screen" });
      expect(await page.locator(".site-nav").isVisible(), `${path}: nav on screen`).toBe(true);
      await page.emulateMedia({ media: "print" });
      for (const selector of ["nav", "form", ".lang", ".skip"]) {
        const all = await page.locator(selector).all();
        for (const el of all) expect(await el.isVisible(), `${path}: ${selector} in print`).toBe(false);
      }
      expect(await page.locator("h1").isVisible(), `${path}: h1 in print`).toBe(true);
      if (path === "/en/annex-c/") {
        expect(await page.locator("main table").first().isVisible()).toBe(true);
        expect(await page.locator("main").textContent()).toContain("Microsoft Azure");
      }
      await page.emulateMedia({ media: null });
    }
    expectClean(w);
  });
});
