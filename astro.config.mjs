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
  devToolbar: { enabled: false },
  prefetch: false,
});
