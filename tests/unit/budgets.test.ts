import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// Weight and script budgets of the published site, measured on one real build of the shipped content:
// - every HTML page at most 30 KB gzipped, all CSS together at most 10 KB gzipped (fast on a poor connection);
// - no <script> anywhere and no JavaScript at all: reading the list and subscribing work with scripting off (the
//   subscribe form posts natively to the API, which answers with a 303 to a result page).
// The build goes to a temporary folder, never to dist/, so it cannot race a running `npm start` or the browser tests.

const ROOT = join(import.meta.dirname, "../..");
const KB = 1024;
const PAGE_BUDGET = 30 * KB;
const CSS_BUDGET = 10 * KB;

let tmp: string;
let out: string;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "budgets-"));
  out = join(tmp, "dist");
  execFileSync(join(ROOT, "node_modules/.bin/astro"), ["build", "--outDir", out], {
    cwd: ROOT,
    env: { ...process.env, BUILD_DATE: "2026-11-23", ASTRO_TELEMETRY_DISABLED: "1" },
    stdio: "pipe",
  });
}, 300_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function files(predicate: (name: string) => boolean = () => true): string[] {
  return readdirSync(out, { recursive: true, encoding: "utf8" })
    .filter((f) => predicate(f) && statSync(join(out, f)).isFile())
    .sort();
}
const gz = (file: string) => gzipSync(readFileSync(join(out, file))).length;
const kb = (bytes: number) => `${(bytes / KB).toFixed(1)} KB`;

describe("page weight budget", () => {
  it("builds the pages of both locales (the budgets below measure something)", () => {
    const pages = files((f) => f.endsWith(".html"));
    expect(pages.filter((p) => p.startsWith("da/")).length).toBeGreaterThan(10);
    expect(pages.filter((p) => p.startsWith("en/")).length).toBe(pages.filter((p) => p.startsWith("da/")).length);
  });

  it("every HTML page is at most 30 KB gzipped", () => {
    const sizes = files((f) => f.endsWith(".html")).map((page) => ({ page, bytes: gz(page) }));
    const heaviest = [...sizes].sort((a, b) => b.bytes - a.bytes)[0];
    console.log(`heaviest page: ${heaviest?.page} ${kb(heaviest?.bytes ?? 0)} gzipped (budget ${kb(PAGE_BUDGET)})`);
    const over = sizes.filter((s) => s.bytes > PAGE_BUDGET).map((s) => `${s.page}: ${kb(s.bytes)}`);
    expect(over, "pages over the 30 KB budget").toEqual([]);
  });

  it("all CSS together is at most 10 KB gzipped, and every page links only local stylesheets", () => {
    const css = files((f) => f.endsWith(".css"));
    expect(css.length).toBeGreaterThan(0);
    const total = css.reduce((sum, f) => sum + gz(f), 0);
    console.log(`CSS: ${css.length} file(s), ${kb(total)} gzipped (budget ${kb(CSS_BUDGET)})`);
    expect(total).toBeLessThanOrEqual(CSS_BUDGET);
    for (const page of files((f) => f.endsWith(".html"))) {
      const html = readFileSync(join(out, page), "utf8");
      for (const [, href] of html.matchAll(/<link[^>]*rel="stylesheet"[^>]*href="([^"]+)"/g)) {
        expect(href, page).toMatch(/^\/[^/]/);
      }
      expect(html, `${page} has an inline <style>`).not.toMatch(/<style[\s>]/i);
    }
  });
});

describe("no JavaScript needed", () => {
  it("no file in the build contains a <script> element, and no JavaScript file is shipped", () => {
    const all = files();
    expect(all.filter((f) => /\.(m?js|cjs|wasm)$/.test(f))).toEqual([]);
    const withScript = all
      .filter((f) => /\.(html|xml|svg|json|csv|txt)$/.test(f) || !f.includes("."))
      .filter((f) => /<script[\s>]/i.test(readFileSync(join(out, f), "utf8")));
    expect(withScript).toEqual([]);
  });

  it("no page carries an inline event handler or a javascript: URL", () => {
    for (const page of files((f) => f.endsWith(".html"))) {
      const html = readFileSync(join(out, page), "utf8");
      expect(html, page).not.toMatch(/<[a-z][^>]*\son[a-z]+\s*=/i);
      expect(html, page).not.toMatch(/javascript:/i);
    }
  });

  for (const locale of ["da", "en"]) {
    it(`the ${locale} subscribe form posts natively to the API: email field, submit button, nothing else needed`, () => {
      const html = readFileSync(join(out, locale, "subscribe/index.html"), "utf8");
      const forms = [...html.matchAll(/<form\b[^>]*>[\s\S]*?<\/form>/g)].map((m) => m[0]);
      const form = forms.find((f) => /action="\/api\/subscriptions"/.test(f));
      expect(form, "a form posting to /api/subscriptions").toBeDefined();
      const open = form?.match(/<form\b[^>]*>/)?.[0] ?? "";
      expect(open).toMatch(/method="post"/i);
      expect(open).not.toMatch(/enctype="multipart/i);
      expect(form).toMatch(/<input[^>]*name="email"[^>]*type="email"|<input[^>]*type="email"[^>]*name="email"/);
      expect(form).toMatch(/<button[^>]*type="submit"|<input[^>]*type="submit"/);
      expect(form).toMatch(new RegExp(`name="locale"[^>]*value="${locale}"|value="${locale}"[^>]*name="locale"`));
      // Every checkbox and field has a label, so the form is usable without scripts and with a screen reader.
      for (const [, id] of (form ?? "").matchAll(/<input[^>]*\sid="([^"]+)"/g)) {
        expect(form, `label for #${id}`).toContain(`for="${id}"`);
      }
    });
  }

  it("every page that links to the subscribe page links to a page that exists in the build", () => {
    const pages = new Set(files((f) => f.endsWith(".html")).map((f) => `/${f.replace(/index\.html$/, "")}`));
    for (const page of files((f) => f.endsWith(".html"))) {
      const html = readFileSync(join(out, page), "utf8");
      for (const [, href] of html.matchAll(/href="(\/(?:da|en)\/subscribe\/[^"#?]*)"/g)) {
        expect(pages.has(href ?? ""), `${page} → ${href}`).toBe(true);
      }
    }
  });
});
