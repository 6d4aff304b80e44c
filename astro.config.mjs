// @ts-check
import mdx from "@astrojs/mdx";
import { defineConfig } from "astro/config";

// Static, bilingual site (DESIGN.md "Published site"): no client JavaScript, no inline scripts or styles,
// one external stylesheet, so the strict Content-Security-Policy in site/public/_headers holds.
export default defineConfig({
  srcDir: "site",
  publicDir: "site/public",
  outDir: "dist",
  output: "static",
  site: process.env.PUBLIC_BASE_URL || "http://127.0.0.1:8787",
  trailingSlash: "always",
  build: { format: "directory", inlineStylesheets: "never" },
  integrations: [mdx()],
  // Builds that run side by side (tests, the benchmark) each pass their own cache, so their content stores
  // never mix; the default is Astro's own.
  ...(process.env.ASTRO_CACHE_DIR ? { cacheDir: process.env.ASTRO_CACHE_DIR } : {}),
  devToolbar: { enabled: false },
  prefetch: false,
});
