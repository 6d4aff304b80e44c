// `npm run bench [-- --only <suite>…] [-- --save-baseline]`: every measurement the issues ask for, printed as a table
// per suite and saved to bench/results/latest.json (not committed). Each figure is a ratio against a baseline measured
// in the same run, so machines of different speed compare. Only --save-baseline changes the committed
// bench/baseline.json (and the README table generated from it): figures are recorded on purpose, never by the way.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { parseArgs } from "node:util";
import { benchBuild, benchPageWeight } from "./bench/build.ts";
import { benchCustomers } from "./bench/customers.ts";
import { benchFanout } from "./bench/fanout.ts";
import { benchFanoutEngine } from "./bench/fanout-engine.ts";
import { benchLoad } from "./bench/load.ts";
import { type BenchRecords, benchTable, type Machine, withBenchTable } from "./bench/readme.ts";
import { benchSignup } from "./bench/signup.ts";
import { benchWebhooks } from "./bench/webhooks.ts";

const LATEST = "bench/results/latest.json";
const BASELINE = "bench/baseline.json";

const { values } = parseArgs({
  options: { only: { type: "string", multiple: true }, "save-baseline": { type: "boolean", default: false } },
});
const wanted = (name: string) => !values.only || values.only.includes(name);

/** `key`: the suite's name in bench/results/latest.json and bench/baseline.json, when it differs from `name`. */
type Suite = { name: string; key?: string; run: () => Promise<Record<string, unknown>> | Record<string, unknown> };

const suites: Suite[] = [
  { name: "pageWeight", run: () => ({ ...benchPageWeight() }) },
  { name: "build", run: () => ({ ...benchBuild() }) },
  { name: "signup", run: async () => ({ ...(await benchSignup()) }) },
  { name: "load", run: async () => ({ ...(await benchLoad()) }) },
  { name: "fanout", run: async () => ({ ...(await benchFanout()) }) },
  { name: "fanout-engine", key: "fanoutEngine", run: async () => ({ ...(await benchFanoutEngine()) }) },
  { name: "webhooks", run: async () => ({ ...(await benchWebhooks()) }) },
  { name: "customers", run: async () => ({ ...(await benchCustomers()) }) },
];
const unknown = (values.only ?? []).filter((name) => !suites.some((s) => s.name === name));
if (unknown.length > 0) {
  console.error(`unknown suite(s): ${unknown.join(", ")}; the suites are ${suites.map((s) => s.name).join(", ")}`);
  process.exit(2);
}

const machine: Machine = {
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
};
const results: BenchRecords = {};
const failures: Record<string, string> = {};
for (const suite of suites.filter((s) => wanted(s.name))) {
  console.log(`\n▶ ${suite.name}`);
  try {
    const figures = await suite.run();
    results[suite.key ?? suite.name] = { takenAt: new Date().toISOString(), machine, figures };
    console.table(figures);
  } catch (error) {
    failures[suite.key ?? suite.name] = (error as Error).message.slice(0, 500);
    console.error(`✖ ${suite.name}: ${(error as Error).message}`);
  }
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
mkdirSync("bench/results", { recursive: true });
writeFileSync(LATEST, json({ ...results, ...(Object.keys(failures).length > 0 ? { failures } : {}) }));
console.log(`\nSaved ${LATEST}`);

if (values["save-baseline"]) {
  // Suites that failed keep their previous baseline; suites not run this time too.
  const baseline = existsSync(BASELINE) ? (JSON.parse(readFileSync(BASELINE, "utf8")) as BenchRecords) : {};
  writeFileSync(BASELINE, json({ ...baseline, ...results }));
  writeFileSync(
    "README.md",
    withBenchTable(readFileSync("README.md", "utf8"), benchTable({ ...baseline, ...results })),
  );
  console.log(`Saved ${Object.keys(results).join(", ") || "nothing"} to ${BASELINE} and the README table`);
}
process.exit(Object.keys(failures).length > 0 ? 1 : 0);
