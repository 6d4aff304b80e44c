import path from "node:path";
import { defineConfig } from "vitest/config";

const root = path.resolve(import.meta.dirname, "../..");

// Browser end-to-end tests: the real portal (`npm start` in a fresh copy of the checkout) driven by Debian's
// Chromium. One server for the whole project (global-setup.ts); the notice flow starts its own, because it edits
// content and restarts. Files run one after another so the timings stay predictable on a small machine.
export default defineConfig({
  root,
  test: {
    name: "e2e",
    include: ["tests/e2e/**/*.e2e.test.ts"],
    environment: "node",
    globalSetup: ["tests/e2e/global-setup.ts"],
    fileParallelism: false,
    testTimeout: 90_000,
    hookTimeout: 240_000,
  },
});
