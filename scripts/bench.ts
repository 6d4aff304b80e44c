// `npm run bench`: every measurement the issues ask for, printed as a table and saved to bench/results.json.
// Each figure is a ratio against a baseline measured in the same run, so machines of different speed compare.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { parseArgs } from "node:util";
import { benchBuild, benchPageWeight } from "./bench/build.ts";

const { values } = parseArgs({ options: { only: { type: "string", multiple: true } } });
const wanted = (name: string) => !values.only || values.only.includes(name);

type Suite = { name: string; run: () => Promise<Record<string, unknown>> | Record<string, unknown> };

/** Optional suites live in their own module; a missing one is reported, not silently skipped. */
async function optional(name: string, path: string, fn: string): Promise<Suite> {
  return {
    name,
    run: async () => {
      if (!existsSync(new URL(path, import.meta.url))) return { status: `not available: ${path} is missing` };
      const mod = (await import(path)) as Record<string, (o?: unknown) => Promise<Record<string, unknown>>>;
      const bench = mod[fn];
      if (!bench) return { status: `not available: ${path} has no ${fn}()` };
      return bench();
    },
  };
}

const suites: Suite[] = [
  { name: "pageWeight", run: () => ({ ...benchPageWeight() }) },
  { name: "build", run: () => ({ ...benchBuild() }) },
  await optional("signup", "./bench/signup.ts", "benchSignup"),
  await optional("load", "./bench/load.ts", "benchLoad"),
  await optional("fanout", "./bench/fanout.ts", "benchFanout"),
];

const previous = existsSync("bench/results.json") ? JSON.parse(readFileSync("bench/results.json", "utf8")) : {};
const results: Record<string, unknown> = {
  ...previous,
  machine: {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  },
  takenAt: new Date().toISOString(),
};
let failed = false;
for (const suite of suites.filter((s) => wanted(s.name))) {
  console.log(`\n▶ ${suite.name}`);
  try {
    const figures = await suite.run();
    results[suite.name] = figures;
    console.table(figures);
  } catch (error) {
    failed = true;
    results[suite.name] = { error: (error as Error).message.slice(0, 500) };
    console.error(`✖ ${suite.name}: ${(error as Error).message}`);
  }
}
mkdirSync("bench", { recursive: true });
writeFileSync("bench/results.json", `${JSON.stringify(results, null, 2)}\n`);
console.log("\nSaved bench/results.json");
process.exit(failed ? 1 : 0);
