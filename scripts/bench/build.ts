// Build benchmark (issue 3): a generated vendor with many sub-processors and changes, in both locales, against the
// same number of trivial Astro pages built in the same run; plus the page weight of the shipped site. Both builds run
// under a CPU profile, so every run also says where the time went (issue 17, scripts/bench/build-profile.ts).
import { spawnSync } from "node:child_process";
import {
  existsSync,
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

/**
 * CPU seconds (user and system) of the child processes this one has waited for: Linux's /proc/self/stat `cutime` and
 * `cstime`, in clock ticks of 1/100 s (USER_HZ). NaN where there is no /proc.
 */
function childCpuSeconds(): number {
  if (!existsSync("/proc/self/stat")) return Number.NaN;
  const fields = readFileSync("/proc/self/stat", "utf8").split(") ").at(-1)?.split(" ") ?? [];
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

/** Runs `command` to its end: wall seconds, and its CPU seconds, which other work on the same cores stretches less. */
function measured(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv },
): { seconds: number; cpuSeconds: number } {
  const start = performance.now();
  const cpuBefore = childCpuSeconds();
  const run = spawnSync(command, args, { stdio: ["ignore", "ignore", "pipe"], encoding: "utf8", ...options });
  if (run.status !== 0) throw new Error(`${command} ${args.join(" ")} failed:\n${run.stderr.slice(-2000)}`);
  return { seconds: (performance.now() - start) / 1000, cpuSeconds: childCpuSeconds() - cpuBefore };
}

const timed = (...args: Parameters<typeof measured>) => measured(...args).seconds;

const gzipKb = (path: string) => gzipSync(readFileSync(path)).length / 1024;

/**
 * Config files in `dir` that are the portal's own astro.config.mjs with `overrides` (config keys as source text: the
 * trivial project's folders): astro.config.mjs as it is, and profiled.config.mjs with the plugin that maps the bundled
 * chunks' lines to their source modules (scripts/bench/build-profile.ts), writing `dir`/modules.json.
 */
function configs(dir: string, overrides = ""): { profiled: string } {
  const portal = `import portal from ${JSON.stringify(resolve("astro.config.mjs"))};\n`;
  writeFileSync(join(dir, "astro.config.mjs"), `${portal}export default { ...portal, ${overrides}};\n`);
  const profiled = join(dir, "profiled.config.mjs");
  writeFileSync(
    profiled,
    `${portal}import { moduleLines } from ${JSON.stringify(resolve("scripts/bench/build-profile.ts"))};\n` +
      `export default { ...portal, ${overrides}vite: { ...portal.vite, plugins: [...(portal.vite?.plugins ?? []), ` +
      `moduleLines(${JSON.stringify(join(dir, "modules.json"))})] } };\n`,
  );
  return { profiled };
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
  configs(dir, `srcDir: "./src", publicDir: "./public", outDir: "./dist", `);
  writeFileSync(
    join(dir, "src/pages/[n].astro"),
    `---\nexport function getStaticPaths() { return Array.from({ length: ${pages} }, (_, n) => ({ params: { n: String(n) } })); }\nconst { n } = Astro.params;\n---\n<html lang="en"><head><title>Page {n}</title></head><body><h1>Page {n}</h1></body></html>\n`,
  );
}

/**
 * `astro build` in `cwd` once more, under a V8 CPU profile (one file per thread in `dir`/profile): where its CPU time
 * went, and its wall time, which says what the profile's sampling (once a millisecond) cost. A run of its own, so the
 * measured builds are what `npm run build` runs, without the sampling.
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
  /** CPU time (user and system, all threads) of validation and `astro build`, of the trivial build, and their ratio. */
  cpuSeconds: number;
  trivialCpuSeconds: number;
  cpuRatio: number;
  pagesPerSecond: number;
  trivialPagesPerSecond: number;
  /** The trivial build's wall time per page. */
  trivialMsPerPage: number;
  /** Wall time of `astro build` again under the CPU profile, and of the trivial build: the sampling's cost. */
  profiledSeconds: number;
  trivialProfiledSeconds: number;
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
    const validated = measured(process.execPath, validateArgs, { env });
    const astroBin = resolve("node_modules/.bin/astro");
    const astro = measured(astroBin, ["build", "--outDir", out], { env: { ...env, CONTENT_VALIDATED: record } });
    const validateSeconds = validated.seconds;
    const buildSeconds = validated.seconds + astro.seconds;
    const cpuSeconds = validated.cpuSeconds + astro.cpuSeconds;
    const html = listFiles(out, ".html");
    const pages = html.length;
    const machine = machineFiles(out);

    const trivial = join(work, "trivial");
    trivialProject(trivial, pages);
    const trivialEnv = { ...env, ASTRO_CACHE_DIR: join(work, "trivial-cache") };
    const trivialRun = measured(astroBin, ["build"], { cwd: trivial, env: trivialEnv });
    const trivialSeconds = trivialRun.seconds;

    // The profiled runs, each from a fresh cache as the measured ones. Astro reads --config relative to the project
    // root (this checkout for the portal), wherever the file is.
    const { profiled } = configs(work);
    const built = profiledAstroBuild(
      work,
      ["--config", relative(resolve("."), profiled), "--outDir", join(work, "dist-profiled")],
      { cwd: resolve("."), env: { ...env, ASTRO_CACHE_DIR: join(work, "cache-profiled"), CONTENT_VALIDATED: record } },
    );
    const trivialBuilt = profiledAstroBuild(trivial, ["--config", "profiled.config.mjs", "--outDir", "dist-profiled"], {
      cwd: trivial,
      env: { ...env, ASTRO_CACHE_DIR: join(work, "trivial-cache-profiled") },
    });
    return {
      subprocessors: generated.subprocessors,
      changes: generated.changes,
      pages,
      seconds: buildSeconds,
      buildSeconds,
      validateSeconds,
      trivialSeconds,
      ratio: buildSeconds / trivialSeconds,
      cpuSeconds,
      trivialCpuSeconds: trivialRun.cpuSeconds,
      cpuRatio: cpuSeconds / trivialRun.cpuSeconds,
      pagesPerSecond: pages / buildSeconds,
      trivialPagesPerSecond: pages / trivialSeconds,
      trivialMsPerPage: (trivialSeconds * 1000) / pages,
      profiledSeconds: built.seconds,
      trivialProfiledSeconds: trivialBuilt.seconds,
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
