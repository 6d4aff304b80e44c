// @ts-check
import { writeFile } from "node:fs/promises";
import mdx from "@astrojs/mdx";
import { defineConfig } from "astro/config";
import { headersFile } from "./domain/security-headers.ts";

// Static, bilingual site: no client JavaScript, no inline scripts or styles, one external stylesheet, so the strict
// Content-Security-Policy holds. The build writes `_headers` from the list the worker uses too.

/** @type {import("astro").AstroIntegration} */
const securityHeaders = {
  name: "security-headers",
  hooks: {
    "astro:build:done": async ({ dir }) => {
      await writeFile(new URL("_headers", dir), headersFile());
    },
  },
};

export default defineConfig({
  srcDir: "site",
  publicDir: "site/public",
  outDir: "dist",
  output: "static",
  site: process.env.PUBLIC_BASE_URL || "http://127.0.0.1:8787",
  trailingSlash: "always",
  build: { format: "directory", inlineStylesheets: "never" },
  integrations: [mdx(), securityHeaders],
  // Builds that run side by side (tests, the benchmark) each pass their own cache, so their content stores
  // never mix; the default is Astro's own.
  ...(process.env.ASTRO_CACHE_DIR ? { cacheDir: process.env.ASTRO_CACHE_DIR } : {}),
  devToolbar: { enabled: false },
  prefetch: false,
});
