// `npm run build [-- <astro build options>]`: validate content/, then build the static site into dist/. Astro runs
// with the project's quiet environment (no telemetry), whoever calls the build.
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { toolEnv } from "./lib/tool-env.ts";

const astroBin = join(dirname(createRequire(import.meta.url).resolve("astro/package.json")), "bin", "astro.mjs");

for (const args of [["scripts/validate.ts"], [astroBin, "build", ...process.argv.slice(2)]]) {
  const run = spawnSync(process.execPath, args, { stdio: "inherit", env: toolEnv() });
  if (run.status !== 0) process.exit(run.status ?? 1);
}
