// Build benchmark (issue 3): a generated vendor with many sub-processors and changes, in both locales, against the
// same number of trivial Astro pages built in the same run; plus the page weight of the shipped site.
import { spawnSync } from "node:child_process";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { toolEnv } from "../lib/tool-env.ts";
import { generateContent } from "./generate-content.ts";

function listFiles(dir: string, suffix: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...listFiles(path, suffix));
    else if (name.endsWith(suffix)) out.push(path);
  }
  return out;
}

function timed(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv }): number {
  const start = performance.now();
  const run = spawnSync(command, args, { stdio: ["ignore", "ignore", "pipe"], encoding: "utf8", ...options });
  if (run.status !== 0) throw new Error(`${command} ${args.join(" ")} failed:\n${run.stderr.slice(-2000)}`);
  return (performance.now() - start) / 1000;
}

const gzipKb = (path: string) => gzipSync(readFileSync(path)).length / 1024;

/**
 * A throwaway Astro project with `pages` trivial static pages: the baseline the real build is compared with. The same
 * Astro install and the portal's own astro.config.mjs (static output, directory format, trailing slashes, the MDX
 * integration, the `_headers` hook), with only its source folders pointed at the throwaway ones, so only the pages
 * differ.
 */
function trivialProject(dir: string, pages: number): void {
  mkdirSync(join(dir, "src/pages"), { recursive: true });
  symlinkSync(resolve("node_modules"), join(dir, "node_modules"), "dir");
  writeFileSync(
    join(dir, "astro.config.mjs"),
    `import portal from ${JSON.stringify(resolve("astro.config.mjs"))};\n` +
      `export default { ...portal, srcDir: "./src", publicDir: "./public", outDir: "./dist" };\n`,
  );
  writeFileSync(
    join(dir, "src/pages/[n].astro"),
    `---\nexport function getStaticPaths() { return Array.from({ length: ${pages} }, (_, n) => ({ params: { n: String(n) } })); }\nconst { n } = Astro.params;\n---\n<html lang="en"><head><title>Page {n}</title></head><body><h1>Page {n}</h1></body></html>\n`,
  );
}

export interface BuildBench {
  subprocessors: number;
  changes: number;
  pages: number;
  /** Validation and `astro build` together (issue 17 names it `seconds`). */
  seconds: number;
  buildSeconds: number;
  trivialSeconds: number;
  ratio: number;
  pagesPerSecond: number;
  trivialPagesPerSecond: number;
  /** Machine-readable files (README "Machine-readable data"): per-version JSON/CSV, schemas, events, calendars. */
  machineFiles: number;
  machineMB: number;
}

/** The machine-readable files of a build and their total size. */
function machineFiles(out: string): { count: number; bytes: number } {
  const paths = [
    ...listFiles(join(out, "annex-c"), ""),
    ...listFiles(join(out, "schema"), ".json"),
    ...listFiles(join(out, "calendar"), ".ics"),
    join(out, "changes.json"),
    join(out, "calendar.ics"),
  ];
  return { count: paths.length, bytes: paths.reduce((sum, p) => sum + statSync(p).size, 0) };
}

export function benchBuild(options = { subprocessors: 1000, dates: 24 }): BuildBench {
  const work = mkdtempSync(join(tmpdir(), "bench-build-"));
  try {
    const generated = generateContent(work, options);
    const out = join(work, "dist");
    // Its own content cache: Astro's default one remembers the previous run's generated files (another temporary
    // directory, gone by now) and the build fails to resolve them.
    const env = {
      ...toolEnv(),
      CONTENT_DIR: join(work, "content"),
      BUILD_DATE: "2026-11-23",
      ASTRO_CACHE_DIR: join(work, "cache"),
    };
    const buildSeconds =
      timed(process.execPath, ["scripts/validate.ts", "--root", work], { env }) +
      timed("astro", ["build", "--outDir", out], { env });
    const pages = listFiles(out, ".html").length;
    const machine = machineFiles(out);

    const trivial = join(work, "trivial");
    trivialProject(trivial, pages);
    const astroBin = resolve("node_modules/.bin/astro");
    const trivialEnv = { ...env, ASTRO_CACHE_DIR: join(work, "trivial-cache") };
    const trivialSeconds = timed(astroBin, ["build"], { cwd: trivial, env: trivialEnv });
    return {
      subprocessors: generated.subprocessors,
      changes: generated.changes,
      pages,
      seconds: buildSeconds,
      buildSeconds,
      trivialSeconds,
      ratio: buildSeconds / trivialSeconds,
      pagesPerSecond: pages / buildSeconds,
      trivialPagesPerSecond: pages / trivialSeconds,
      machineFiles: machine.count,
      machineMB: machine.bytes / 1024 / 1024,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export interface PageWeight {
  homeHtmlKbGzip: number;
  annexHtmlKbGzip: number;
  largestHtmlKbGzip: number;
  largestHtmlPage: string;
  cssKbGzip: number;
  jsKb: number;
}

/** Weight of the shipped site, built here from this checkout's content (never whatever dist/ happens to hold). */
export function benchPageWeight(): PageWeight {
  const work = mkdtempSync(join(tmpdir(), "bench-weight-"));
  try {
    const dist = join(work, "dist");
    const env = { ...toolEnv(), BUILD_DATE: "2026-11-23", ASTRO_CACHE_DIR: join(work, "cache") };
    timed(process.execPath, ["scripts/build.ts", "--outDir", dist], { env });
    const sizes = listFiles(dist, ".html").map((p) => [p, gzipKb(p)] as const);
    const largest = sizes.reduce((a, b) => (b[1] > a[1] ? b : a), ["", 0] as readonly [string, number]);
    return {
      homeHtmlKbGzip: gzipKb(join(dist, "en/index.html")),
      annexHtmlKbGzip: gzipKb(join(dist, "en/annex-c/index.html")),
      largestHtmlKbGzip: largest[1],
      largestHtmlPage: largest[0].slice(dist.length),
      cssKbGzip: listFiles(dist, ".css").reduce((sum, p) => sum + gzipKb(p), 0),
      jsKb: listFiles(dist, ".js").reduce((sum, p) => sum + statSync(p).size / 1024, 0),
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
