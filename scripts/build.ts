// `npm run build [-- <astro build options>]`: validate content/, then build the static site into dist/. Astro runs
// with the project's quiet environment (no telemetry), whoever calls the build.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { recordPath } from "../content-io/validated.ts";
import { toolEnv } from "./lib/tool-env.ts";

const astroBin = join(dirname(createRequire(import.meta.url).resolve("astro/package.json")), "bin", "astro.mjs");

// The validation's record of what it checked goes to the Astro build (content-io/validated.ts), in a folder of this
// build's own, gone afterwards.
const work = mkdtempSync(join(tmpdir(), "portal-build-"));
const record = recordPath(work);
let status = 0;
try {
  for (const args of [
    ["scripts/validate.ts", "--record", record],
    [astroBin, "build", ...process.argv.slice(2)],
  ]) {
    const run = spawnSync(process.execPath, args, { stdio: "inherit", env: toolEnv({ CONTENT_VALIDATED: record }) });
    status = run.status ?? 1;
    if (status !== 0) break;
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
process.exit(status);
