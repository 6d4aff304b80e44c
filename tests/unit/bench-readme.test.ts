import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type BenchRecords, benchTable, TABLE_END, TABLE_START, withBenchTable } from "../../scripts/bench/readme.ts";

// The README's benchmark figures come from the committed baseline, never from a hand edit or a stray run.

const baseline = JSON.parse(readFileSync("bench/baseline.json", "utf8")) as BenchRecords;
const readme = readFileSync("README.md", "utf8");

describe("README benchmark table", () => {
  it("is the table generated from bench/baseline.json (npm run bench:readme writes it)", () => {
    const table = readme.slice(readme.indexOf(TABLE_START), readme.indexOf(TABLE_END) + TABLE_END.length);
    expect(table).toBe(benchTable(baseline));
  });

  it("follows the baseline's figures and says which suites have none", () => {
    const fanout = baseline.fanout as BenchRecords[string];
    const changed = benchTable({ fanout: { ...fanout, figures: { ...fanout.figures, ratio: 0.5, duplicates: 3 } } });
    expect(changed).toContain("**ratio 0.5**; 3 duplicates");
    expect(changed).toContain("not in the baseline yet: `npm run bench -- --only build --save-baseline`");
    expect(changed).not.toBe(benchTable(baseline));
  });

  it("refuses a README without the markers instead of appending a second table", () => {
    expect(() => withBenchTable("# no table here\n", benchTable(baseline))).toThrow(/markers are missing/);
  });

  it("a benchmark run writes to an ignored file; only the baseline is committed", () => {
    expect(execFileSync("git", ["check-ignore", "bench/results/latest.json"], { encoding: "utf8" }).trim()).toBe(
      "bench/results/latest.json",
    );
    const tracked = execFileSync("git", ["ls-files", "bench"], { encoding: "utf8" }).trim().split("\n");
    expect(tracked).toContain("bench/baseline.json");
    expect(tracked.filter((f) => f.startsWith("bench/results"))).toEqual([]);
  });
});
