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

// No telemetry from any build (npm start, npm run build, tests, benchmarks, CI): the README promises that
// nothing here needs the network. The CI scripts also set it in the environment.
process.env.ASTRO_TELEMETRY_DISABLED ??= "1";

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
  vite: {
    build: {
      rolldownOptions: {
        // MDX pages carry Astro's own "use astro:head-inject" marker; the bundler warns that it drops such
        // directives, and Astro reads it before bundling, so the warning says nothing about this project.
        onwarn(warning, warn) {
          if (warning.code === "MODULE_LEVEL_DIRECTIVE" && warning.message.includes("astro:head-inject")) return;
          warn(warning);
        },
      },
    },
  },
  prefetch: false,
});
