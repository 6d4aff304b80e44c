// `npm run bench:readme`: rewrites the README's benchmark table from bench/baseline.json.
import { readFileSync, writeFileSync } from "node:fs";
import { type BenchRecords, benchTable, withBenchTable } from "./bench/readme.ts";

const baseline = JSON.parse(readFileSync("bench/baseline.json", "utf8")) as BenchRecords;
writeFileSync("README.md", withBenchTable(readFileSync("README.md", "utf8"), benchTable(baseline)));
console.log("README.md: benchmark table written from bench/baseline.json");
