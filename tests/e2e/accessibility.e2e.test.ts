// axe-core on every page type of the portal, in both languages: zero serious or critical violations (WCAG 2.1 A/AA
// and axe's best practices), on a desktop window and on a 360 × 740 phone, where no page may scroll sideways. The pages that need a real subscriber (manage, notice objection) are checked in the
// subscription and notice flows; here they are checked in the state a stale or mistyped link shows.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { expectAccessible, expectClean, hasChromium, openPage, visit, type Watch } from "./browser.ts";

const base = inject("baseURL");
const origin = base ? new URL(base).origin : "";

/** A well-formed token nobody was ever given (43 base64url characters, like the real ones). */
const UNKNOWN_TOKEN = "A".repeat(43);

const STATIC_PAGES = [
  "",
  "regions/uk/",
  "subprocessors/microsoft-azure/",
  "annex-c/",
  "annex-c/2024-07-01/",
  "changes/",
  "changes/2024-07-01-moch-added/",
  "dpa/",
  "dpa/2023-10-01/",
  "subscribe/",
  "subscribe/check/",
  "subscribe/error/",
  "about/",
];

/** Pages the worker renders itself: the button pages behind email links, and the error page of a dead link. */
const WORKER_PAGES: { path: string; status: number }[] = [
  { path: `subscription/confirm?token=${UNKNOWN_TOKEN}`, status: 200 },
  { path: "subscription/confirmed", status: 200 },
  { path: `subscription/unsubscribe?token=${UNKNOWN_TOKEN}`, status: 200 },
  { path: "subscription/erased", status: 200 },
  { path: `subscription/manage?token=${UNKNOWN_TOKEN}`, status: 401 },
  { path: `subscription/erase?token=${UNKNOWN_TOKEN}`, status: 401 },
];

describe.skipIf(!hasChromium)("accessibility of every page type (axe-core)", () => {
  let page: Page;
  let w: Watch;
  let close = async () => {};

  beforeAll(async () => {
    ({ page, w, close } = await openPage(origin));
  });

  afterAll(() => close());

  for (const lang of ["da", "en"] as const) {
    it(`static pages in ${lang}`, async () => {
      for (const path of STATIC_PAGES) {
        await visit(page, base, `/${lang}/${path}`, { lang });
        await expectAccessible(page);
      }
      expectClean(w);
    });

    it(`worker-rendered subscription pages in ${lang}`, async () => {
      for (const { path, status } of WORKER_PAGES) {
        const before = w.consoleErrors.length;
        await visit(page, base, `/${lang}/${path}`, { lang, status });
        await expectAccessible(page);
        // A refused link shows its error page with its status; Chromium logs that status, nothing else may appear.
        if (status !== 200) w.consoleErrors.splice(before, 1);
      }
      expectClean(w);
    });
  }

  it("the 404 page", async () => {
    await visit(page, base, "/da/findes-ikke/", { status: 404 });
    await expectAccessible(page);
  });

  it("the Danish list fits a 1280 px window without scrolling inside its container", async () => {
    await page.setViewportSize({ width: 1280, height: 800 });
    await visit(page, base, "/da/", { lang: "da" });
    const fit = await page.evaluate(() => {
      const table = document.querySelector(".sp-table") as HTMLElement;
      return { table: table.getBoundingClientRect().width, box: (table.parentElement as HTMLElement).clientWidth };
    });
    expect(fit.table).toBeLessThanOrEqual(fit.box);
  });
});

/** Widths that matter on a phone: the document's, the window's, and every element that scrolls sideways itself. */
async function widths(page: Page) {
  return page.evaluate(() => ({
    document: document.documentElement.scrollWidth,
    viewport: window.innerWidth,
    // Something that scrolls on its own must be a labelled, focusable region (keyboard users can scroll it).
    unlabelledScrollers: [...document.querySelectorAll("body *")]
      // (Visually hidden elements, 1 px wide, are not scrollers a person sees.)
      .filter((el) => el.clientWidth > 1 && el.scrollWidth > el.clientWidth + 1)
      .filter((el) => getComputedStyle(el).overflowX !== "visible")
      .filter((el) => !(el.getAttribute("aria-label") && el.getAttribute("tabindex") === "0"))
      .map((el) => `${el.tagName.toLowerCase()}.${el.className}`),
  }));
}

describe.skipIf(!hasChromium)("on a 360 × 740 phone: no page scrolls sideways, axe stays clean", () => {
  let page: Page;
  let w: Watch;
  let close = async () => {};

  beforeAll(async () => {
    ({ page, w, close } = await openPage(origin, { viewport: { width: 360, height: 740 }, isMobile: true }));
  });

  afterAll(() => close());

  for (const lang of ["da", "en"] as const) {
    it(`every page type in ${lang}`, async () => {
      const pages = [
        ...STATIC_PAGES.map((path) => ({ path, status: 200 })),
        ...WORKER_PAGES,
        { path: "findes-ikke/", status: 404 },
      ];
      for (const { path, status } of pages) {
        const before = w.consoleErrors.length;
        await visit(page, base, `/${lang}/${path}`, { lang: status === 404 ? undefined : lang, status });
        if (status !== 200) w.consoleErrors.splice(before, 1);
        expect(await widths(page), `/${lang}/${path}`).toEqual({
          document: 360,
          viewport: 360,
          unlabelledScrollers: [],
        });
        await expectAccessible(page);
      }
      expectClean(w);
    });
  }
});
