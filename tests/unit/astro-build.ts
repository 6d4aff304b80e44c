import { execFileSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

// Building the real site into a temporary folder, for the tests that check its output (never into dist/, so a build
// cannot race a running `npm start` or the browser tests).

export const ROOT = join(import.meta.dirname, "../..");

export function buildSite(outDir: string, buildDate: string, env: NodeJS.ProcessEnv = {}): void {
  execFileSync(join(ROOT, "node_modules/.bin/astro"), ["build", "--outDir", outDir], {
    cwd: ROOT,
    env: {
      ...process.env,
      BUILD_DATE: buildDate,
      PUBLIC_BASE_URL: "https://portal.test",
      ASTRO_TELEMETRY_DISABLED: "1",
      ...env,
    },
    stdio: "pipe",
  });
}

/** Every file under `dir` whose name ends with `ext`, as absolute paths. */
export function files(dir: string, ext = ""): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(ext) && statSync(join(dir, f)).isFile())
    .map((f) => join(dir, f));
}
