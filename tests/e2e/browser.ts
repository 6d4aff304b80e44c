// Debian's Chromium driven by playwright-core: no browser is ever downloaded. Every page a test visits goes through
// `visit`, which checks what every page of the portal promises: no console errors, no request to any host but the
// portal itself, a <title>, <html lang>, exactly one h1 and a skip link.
import { existsSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { type Browser, type BrowserContext, type BrowserContextOptions, chromium, type Page } from "playwright-core";
import { expect } from "vitest";

export const CHROMIUM = "/usr/bin/chromium";
export const hasChromium = existsSync(CHROMIUM);
export const ARTIFACTS = join(import.meta.dirname, "artifacts");
const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-dev-shm-usage",
];

/** Launches Chromium with a fresh temporary profile (playwright makes one per launch and deletes it on close). */
export function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 60_000 });
}

/**
 * A context for one visitor. `bypassCSP` only lets the tests inject axe-core; the pages' own Content-Security-Policy
 * is checked by the site and worker tests.
 */
export function newContext(browser: Browser, options: BrowserContextOptions = {}): Promise<BrowserContext> {
  return browser.newContext({ bypassCSP: true, locale: "en-GB", ...options });
}

/** What went wrong on a page while the test used it. */
export interface Watch {
  consoleErrors: string[];
  foreignRequests: string[];
}

/** Records console errors and requests to anything but the portal's own origin, for the page's whole life. */
export function watch(page: Page, origin: string): Watch {
  const w: Watch = { consoleErrors: [], foreignRequests: [] };
  page.on("console", (msg) => {
    if (msg.type() === "error") w.consoleErrors.push(`${msg.location().url || page.url()}: ${msg.text()}`);
  });
  page.on("pageerror", (err) => w.consoleErrors.push(`${page.url()}: ${err.message}`));
  page.on("request", (req) => {
    const url = req.url();
    if (url.startsWith("data:") || url.startsWith("about:") || url.startsWith("blob:")) return;
    if (new URL(url).origin !== origin) w.foreignRequests.push(url);
  });
  return w;
}

export function expectClean(w: Watch): void {
  expect(w.consoleErrors, "console errors").toEqual([]);
  expect(w.foreignRequests, "requests to other hosts").toEqual([]);
}

/** The structure every page must have: <title>, <html lang>, one h1, a skip link to an element that exists. */
export async function expectPageBasics(page: Page, lang?: "da" | "en"): Promise<void> {
  const where = page.url();
  expect((await page.title()).trim(), `${where}: <title>`).not.toBe("");
  const htmlLang = await page.locator("html").getAttribute("lang");
  expect(htmlLang, `${where}: <html lang>`).toMatch(/^(da|en)$/);
  if (lang) expect(htmlLang, `${where}: <html lang>`).toBe(lang);
  expect(await page.locator("h1").count(), `${where}: number of h1`).toBe(1);
  const skip = page.locator('body a[href^="#"]').first();
  expect(await skip.count(), `${where}: skip link`).toBe(1);
  const target = ((await skip.getAttribute("href")) ?? "#").slice(1);
  expect(target, `${where}: skip link target`).not.toBe("");
  expect(await page.locator(`[id="${target}"]`).count(), `${where}: skip link target #${target}`).toBe(1);
  // The skip link is the first thing a keyboard user reaches.
  const first = page
    .locator("a[href], button, input:not([type=hidden]), select, textarea, [tabindex]:not([tabindex='-1'])")
    .first();
  const firstFocusable = (await first.getAttribute("href")) ?? (await first.evaluate((el) => el.tagName));
  expect(firstFocusable, `${where}: first focusable element`).toBe(`#${target}`);
}

/** Opens `path` and checks the basics; the response must be the expected status (200 unless told). */
export async function visit(
  page: Page,
  base: string,
  path: string,
  options: { lang?: "da" | "en"; status?: number } = {},
): Promise<void> {
  const res = await page.goto(new URL(path, base).toString(), { waitUntil: "load" });
  expect(res?.status(), `GET ${path}`).toBe(options.status ?? 200);
  await expectPageBasics(page, options.lang);
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

/**
 * Runs axe-core on the page (WCAG 2.1 A/AA and best practices) and fails on any serious or critical violation,
 * printing each with the elements concerned. Needs a context with JavaScript enabled.
 */
export async function expectAccessible(page: Page): Promise<void> {
  await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: (ctx: Document, o: unknown) => Promise<unknown> } }).axe;
    const result = (await axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] },
      resultTypes: ["violations"],
    })) as { violations: AxeViolation[] };
    return result.violations;
  });
  const serious = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  if (serious.length > 0) {
    const report = serious
      .map(
        (v) =>
          `  [${v.impact}] ${v.id}: ${v.help}\n${v.nodes
            .slice(0, 5)
            .map(
              (n) =>
                `      ${n.target.join(" ")}${n.failureSummary ? ` — ${n.failureSummary.replace(/\s+/g, " ")}` : ""}`,
            )
            .join("\n")}`,
      )
      .join("\n");
    console.error(`axe: serious/critical violations on ${page.url()}:\n${report}`);
  }
  expect(
    serious.map((v) => `${v.impact} ${v.id} (${v.nodes.length})`),
    `axe serious/critical violations on ${page.url()}`,
  ).toEqual([]);
}

/** One browser, one context and one watched page for a test file; `close` ends them. */
export async function openPage(
  origin: string,
  options: BrowserContextOptions = {},
): Promise<{ page: Page; w: Watch; close: () => Promise<void> }> {
  const browser = await launch();
  const context = await newContext(browser, options);
  const page = await context.newPage();
  return {
    page,
    w: watch(page, origin),
    close: async () => {
      await context.close();
      await browser.close();
    },
  };
}
