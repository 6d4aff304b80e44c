// Starts the portal once for every browser test and hands its address to the test files (inject("baseURL")).
// Without /usr/bin/chromium: under CI=true the project fails with the command that fixes it; elsewhere a loud notice
// is printed and the browser tests are reported as skipped (never as passed).
import type { TestProject } from "vitest/node";
import { copyCheckout, type Portal, removeCopy, startPortal } from "../../testing/portal.ts";
import { CHROMIUM, hasChromium } from "./browser.ts";

declare module "vitest" {
  export interface ProvidedContext {
    baseURL: string;
    adminToken: string;
  }
}

const INSTALL = "apt-get install -y chromium";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (!hasChromium) {
    const message = `${CHROMIUM} not found: the browser end-to-end tests need Debian's Chromium. Install it with \`${INSTALL}\` (no browser is ever downloaded).`;
    if (process.env.CI === "true") throw new Error(message);
    const bar = "!".repeat(100);
    console.warn(
      `\n${bar}\n!! SKIPPING ALL BROWSER END-TO-END TESTS\n!! ${message}\n!! These tests did NOT pass; they did not run.\n${bar}\n`,
    );
    project.provide("baseURL", "");
    project.provide("adminToken", "");
    return async () => {};
  }
  const dir = copyCheckout();
  let portal: Portal;
  try {
    portal = await startPortal({ dir });
  } catch (error) {
    removeCopy(dir);
    throw error;
  }
  project.provide("baseURL", portal.url);
  project.provide("adminToken", portal.adminToken);
  return async () => {
    await portal.stop();
    removeCopy(dir);
  };
}
