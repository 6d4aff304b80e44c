// `npm test`: lint, type-check, then every Vitest project (unit, worker in workerd, browser e2e).
import { spawnSync } from "node:child_process";
import { toolEnv } from "./lib/tool-env.ts";

const steps: [string, string[]][] = [
  ["biome", ["check", "."]],
  // Generates Astro's content types (.astro/) so tsc can check the site too.
  ["astro", ["sync"]],
  ["tsc", ["--noEmit", "-p", "tsconfig.json"]],
  // The worker compiles against the Workers runtime types, not the DOM: its own project.
  ["tsc", ["--noEmit", "-p", "worker/tsconfig.json"]],
  ["vitest", ["run", ...process.argv.slice(2)]],
];

for (const [bin, args] of steps) {
  console.log(`\n▶ ${bin} ${args.join(" ")}`);
  const result = spawnSync(bin, args, { stdio: "inherit", shell: false, env: toolEnv() });
  if (result.status !== 0) {
    console.error(`✖ ${bin} failed (exit ${result.status ?? result.signal})`);
    process.exit(result.status ?? 1);
  }
}
