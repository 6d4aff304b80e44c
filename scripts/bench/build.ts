// Build benchmark (issue 3): a generated vendor with many sub-processors and changes, in both locales, against the
// same number of trivial Astro pages built in the same run; plus the page weight of the shipped site. Both builds run
// under a CPU profile, so every run also says where the time went (issue 17, scripts/bench/build-profile.ts).
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
import { join, relative, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { recordPath } from "../../content-io/validated.ts";
import { toolEnv } from "../lib/tool-env.ts";
import {
  BUCKETS,
  type Bucket,
  type BuildProfile,
  bucketProfile,
  type CpuProfile,
  type ModuleLines,
} from "./build-profile.ts";
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
 * A config file in `dir` that is the portal's own astro.config.mjs plus the plugin that maps the bundled chunks'
 * lines to their source modules (scripts/bench/build-profile.ts), writing `dir`/modules.json. `overrides` are
 * config keys as source text (the trivial project's folders).
 */
function profiledConfig(dir: string, overrides = ""): string {
  const path = join(dir, "astro.config.mjs");
  writeFileSync(
    path,
    `import portal from ${JSON.stringify(resolve("astro.config.mjs"))};\n` +
      `import { moduleLines } from ${JSON.stringify(resolve("scripts/bench/build-profile.ts"))};\n` +
      `export default { ...portal, ${overrides}vite: { ...portal.vite, plugins: [...(portal.vite?.plugins ?? []), ` +
      `moduleLines(${JSON.stringify(join(dir, "modules.json"))})] } };\n`,
  );
  return path;
}

/**
 * A throwaway Astro project with `pages` trivial static pages: the baseline the real build is compared with. The same
 * Astro install and the portal's own astro.config.mjs (static output, directory format, trailing slashes, the MDX
 * integration, the `_headers` hook), with only its source folders pointed at the throwaway ones, so only the pages
 * differ.
 */
function trivialProject(dir: string, pages: number): void {
  mkdirSync(join(dir, "src/pages"), { recursive: true });
  symlinkSync(resolve("node_modules"), join(dir, "node_modules"), "dir");
  profiledConfig(dir, `srcDir: "./src", publicDir: "./public", outDir: "./dist", `);
  writeFileSync(
    join(dir, "src/pages/[n].astro"),
    `---\nexport function getStaticPaths() { return Array.from({ length: ${pages} }, (_, n) => ({ params: { n: String(n) } })); }\nconst { n } = Astro.params;\n---\n<html lang="en"><head><title>Page {n}</title></head><body><h1>Page {n}</h1></body></html>\n`,
  );
}

/**
 * `astro build` in `cwd` under a V8 CPU profile (one file per thread in `dir`/profile), its wall time and where its
 * CPU time went. The profile's sampling (once a millisecond) costs the build a little; both builds of the suite pay it.
 */
function profiledAstroBuild(
  dir: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
): { seconds: number; profile: BuildProfile } {
  const profiles = join(dir, "profile");
  const astroBin = resolve("node_modules/astro/bin/astro.mjs");
  const seconds = timed(
    process.execPath,
    ["--cpu-prof", "--cpu-prof-dir", profiles, astroBin, "build", ...args],
    options,
  );
  const read = (path: string) => JSON.parse(readFileSync(path, "utf8")) as unknown;
  const cpu = listFiles(profiles, ".cpuprofile").map((p) => read(p) as CpuProfile);
  return { seconds, profile: bucketProfile(cpu, read(join(dir, "modules.json")) as ModuleLines, resolve(".")) };
}

export interface BuildBench {
  subprocessors: number;
  changes: number;
  pages: number;
  /** Validation and `astro build` together (issue 17 names it `seconds`). */
  seconds: number;
  buildSeconds: number;
  validateSeconds: number;
  trivialSeconds: number;
  ratio: number;
  pagesPerSecond: number;
  trivialPagesPerSecond: number;
  /** The trivial build's wall time per page. */
  trivialMsPerPage: number;
  /** CPU time per page in Astro's own code and the file system in the portal's build, from its profile. */
  astroMsPerPage: number;
  /** The same, from the trivial build's profile: Astro's cost of a page that costs nothing to compute. */
  trivialAstroMsPerPage: number;
  /** Where the CPU time of `astro build` went, in seconds per bucket (scripts/bench/build-profile.ts). */
  profile: ProfileFigures;
  trivialProfile: ProfileFigures;
  /** Machine-readable files (README "Machine-readable data"): per-version JSON/CSV, schemas, events, calendars. */
  machineFiles: number;
  machineMB: number;
  htmlMB: number;
}

/** A BuildProfile as figures: seconds of CPU per bucket, the total and the time spent waiting, to 0.01 s. */
export type ProfileFigures = Record<Bucket | "cpu" | "idle", number>;

function figuresOf(profile: BuildProfile): ProfileFigures {
  const round = (s: number) => Math.round(s * 100) / 100;
  const buckets = Object.fromEntries(BUCKETS.map((b) => [b, round(profile.seconds[b])])) as Record<Bucket, number>;
  return { cpu: round(profile.cpuSeconds), idle: round(profile.idleSeconds), ...buckets };
}

/** Astro's own CPU time per page: its code, and the file system calls it makes to write the pages. */
const astroMsPerPage = (profile: BuildProfile, pages: number) =>
  ((profile.seconds.astro + profile.seconds.fileIO) * 1000) / pages;

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
    // As `npm run build` runs them (scripts/build.ts): the validation's record of what it checked goes to the build.
    const record = recordPath(work);
    const validateArgs = ["scripts/validate.ts", "--root", work, "--record", record];
    const validateSeconds = timed(process.execPath, validateArgs, { env });
    // Astro reads --config relative to the project root (this checkout), wherever the file is.
    const config = relative(resolve("."), profiledConfig(work));
    const built = profiledAstroBuild(work, ["--config", config, "--outDir", out], {
      cwd: resolve("."),
      env: { ...env, CONTENT_VALIDATED: record },
    });
    const buildSeconds = validateSeconds + built.seconds;
    const html = listFiles(out, ".html");
    const pages = html.length;
    const machine = machineFiles(out);

    const trivial = join(work, "trivial");
    trivialProject(trivial, pages);
    const trivialEnv = { ...env, ASTRO_CACHE_DIR: join(work, "trivial-cache") };
    const trivialBuilt = profiledAstroBuild(trivial, [], { cwd: trivial, env: trivialEnv });
    const trivialSeconds = trivialBuilt.seconds;
    return {
      subprocessors: generated.subprocessors,
      changes: generated.changes,
      pages,
      seconds: buildSeconds,
      buildSeconds,
      validateSeconds,
      trivialSeconds,
      ratio: buildSeconds / trivialSeconds,
      pagesPerSecond: pages / buildSeconds,
      trivialPagesPerSecond: pages / trivialSeconds,
      trivialMsPerPage: (trivialSeconds * 1000) / pages,
      astroMsPerPage: astroMsPerPage(built.profile, pages),
      trivialAstroMsPerPage: astroMsPerPage(trivialBuilt.profile, pages),
      profile: figuresOf(built.profile),
      trivialProfile: figuresOf(trivialBuilt.profile),
      machineFiles: machine.count,
      machineMB: machine.bytes / 1024 / 1024,
      htmlMB: html.reduce((sum, p) => sum + statSync(p).size, 0) / 1024 / 1024,
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
