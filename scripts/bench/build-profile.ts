// Where the time of `astro build` goes (issue 17): a V8 CPU profile of the build (`node --cpu-prof`), every sample
// put in one bucket. Astro renders pages from chunks it bundles into a temporary folder and deletes after the build,
// so a sample's file alone does not say whose code ran; `moduleLines` records, while the chunks are written, which
// source module each line of each chunk came from, and `bucketProfile` reads that map to name the module of a sample.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";

/** The parts of a `.cpuprofile` read here (the Chrome DevTools Protocol's Profiler.Profile). */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

/** Per chunk file (absolute path): the first line of each module in it (0-based, as V8 counts), in line order. */
export type ModuleLines = Record<string, [line: number, module: string][]>;

/**
 * The buckets, in the order a sample is tested for them: the first that matches takes it.
 * - `gc`: V8's garbage collector.
 * - `machineFiles`: anything under one of the site's endpoints (site/pages/**∕*.ts: the JSON, CSV, iCalendar and feed
 *   files), with the canonical JSON, fingerprints and patches they compute. Work an HTML page asks for first (a
 *   shared document's fingerprint) counts as the portal's page code instead.
 * - `fileIO`: Node's file system calls (the build's writes of pages and files, and the content layer's reads).
 * - `contentLayer`: Astro's content layer with what it calls: the collection loaders (site/content.config.ts), the
 *   frontmatter and YAML readers and zod's validation.
 * - `portal`: the portal's own code (site/, domain/, content-io/, i18n/) outside the above, compiled .astro pages and
 *   components included.
 * - `astro`: Astro, Vite and the bundler, the Node internals they call (streams, Response bodies, text encoding).
 * - `other`: V8's own work with no JavaScript caller (`(program)`: compiling, the runtime).
 */
export const BUCKETS = ["gc", "machineFiles", "fileIO", "contentLayer", "portal", "astro", "other"] as const;
export type Bucket = (typeof BUCKETS)[number];

export interface BuildProfile {
  /** Sampled CPU time of the main thread, in seconds (idle excluded). */
  cpuSeconds: number;
  /** Time the main thread waited (for the file system's threads, mostly). */
  idleSeconds: number;
  /** Seconds of CPU per bucket. */
  seconds: Record<Bucket, number>;
}

/**
 * A Vite plugin that writes `file` with the ModuleLines of every chunk the build emits. Each module's rendered code is
 * found in its chunk's code, so the map is exact wherever the bundler copied a module as it rendered it.
 */
export function moduleLines(file: string) {
  const lines: ModuleLines = {};
  return {
    name: "bench-module-lines",
    generateBundle(
      options: { dir?: string },
      bundle: Record<string, { type: string; code?: string; modules?: Record<string, { code: string | null }> }>,
    ) {
      for (const [fileName, chunk] of Object.entries(bundle)) {
        if (chunk.type !== "chunk" || !chunk.code || !chunk.modules || !options.dir) continue;
        const code = chunk.code;
        const starts: [number, string][] = [];
        let from = 0;
        for (const [id, module] of Object.entries(chunk.modules)) {
          if (!module.code) continue;
          const at = code.indexOf(module.code, from);
          if (at < 0) continue;
          from = at + module.code.length;
          starts.push([lineOf(code, at), id]);
        }
        lines[`${options.dir}/${fileName}`] = starts.sort((a, b) => a[0] - b[0]);
      }
      // Astro bundles more than once (the prerender chunks, the client assets), maybe with a copy of this plugin each.
      const before = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as ModuleLines) : {};
      writeFileSync(file, JSON.stringify({ ...before, ...lines }));
    },
  };
}

function lineOf(code: string, offset: number): number {
  let line = 0;
  for (let i = code.indexOf("\n"); i >= 0 && i < offset; i = code.indexOf("\n", i + 1)) line++;
  return line;
}

/** The module a chunk line came from: the last module starting at or before it. */
function moduleAt(starts: [number, string][], line: number): string | undefined {
  let found: string | undefined;
  for (const [start, id] of starts) {
    if (start > line) break;
    found = id;
  }
  return found;
}

type Owner = "portal" | "endpoint" | "contentLayer" | "fs" | "astro" | "library" | "native";

/** Astro and the tools it builds with; any other package (and Node's own modules) is a library its caller uses. */
const ASTRO_PACKAGES = /^node_modules\/(astro|vite|rolldown|esbuild|@astrojs\/[^/]+|@rolldown\/[^/]+)\//;

/**
 * Whose code a source path is. `root` is the portal's checkout; paths are as the bundler or Node name them (absolute,
 * `file://` URLs, `node:` modules, or the bundler's virtual ids starting with a NUL byte).
 */
export function ownerOf(path: string, root: string): Owner {
  if (path === "") return "native";
  if (/^node:(internal\/)?fs/.test(path)) return "fs";
  if (path.startsWith("node:")) return "library";
  const file = path.startsWith("file://") ? fileURLToPath(path) : path;
  const inRepo = relative(root, file.split("?")[0] ?? file);
  if (inRepo.startsWith("..") || inRepo.startsWith("\0")) return "astro";
  if (/^node_modules\/(zod|yaml)\//.test(inRepo) || inRepo.startsWith("node_modules/astro/dist/content/")) {
    return "contentLayer";
  }
  if (ASTRO_PACKAGES.test(inRepo)) return "astro";
  if (inRepo.startsWith("node_modules/")) return "library";
  if (inRepo === "site/content.config.ts" || inRepo === "content-io/load-content.ts") return "contentLayer";
  if (/^site\/pages\/.*\.ts$/.test(inRepo)) return "endpoint";
  if (/^(site|domain|content-io|i18n)\//.test(inRepo)) return "portal";
  return "astro";
}

/** Every sample of `profiles` (the main thread's, and any worker's) in its bucket. */
export function bucketProfile(profiles: CpuProfile[], modules: ModuleLines, root: string): BuildProfile {
  const seconds = Object.fromEntries(BUCKETS.map((b) => [b, 0])) as Record<Bucket, number>;
  let idle = 0;
  for (const profile of profiles) {
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
    const owners = new Map<number, Owner>();
    const ownerOfNode = (id: number): Owner => {
      let owner = owners.get(id);
      if (owner === undefined) {
        const { url, lineNumber } = byId.get(id)?.callFrame ?? { url: "", lineNumber: 0 };
        const chunk = url.startsWith("file://") ? modules[fileURLToPath(url)] : undefined;
        owner = ownerOf(chunk ? (moduleAt(chunk, lineNumber) ?? "\0chunk") : url, root);
        owners.set(id, owner);
      }
      return owner;
    };
    const bucketOf = new Map<number, Bucket | "idle">();
    const bucket = (leaf: number): Bucket | "idle" => {
      const name = byId.get(leaf)?.callFrame.functionName;
      if (name === "(garbage collector)") return "gc";
      if (name === "(idle)") return "idle";
      if (name === "(program)" || name === "(root)") return "other";
      const stack: Owner[] = [];
      for (let id: number | undefined = leaf; id !== undefined; id = parent.get(id)) stack.push(ownerOfNode(id));
      if (stack.includes("endpoint")) return "machineFiles";
      // A native function (no file) is the work of the nearest JavaScript frame that called it, and a library's (or
      // Node's) the work of the nearest code, the portal's or Astro's, that called it.
      if (stack.find((o) => o !== "native") === "fs") return "fileIO";
      if (stack.includes("contentLayer")) return "contentLayer";
      return stack.find((o) => o === "portal" || o === "astro") === "portal" ? "portal" : "astro";
    };
    profile.samples.forEach((id, i) => {
      let b = bucketOf.get(id);
      if (b === undefined) {
        b = bucket(id);
        bucketOf.set(id, b);
      }
      const s = (profile.timeDeltas[i] ?? 0) / 1e6;
      if (b === "idle") idle += s;
      else seconds[b] += s;
    });
  }
  const cpuSeconds = BUCKETS.reduce((sum, b) => sum + seconds[b], 0);
  return { cpuSeconds, idleSeconds: idle, seconds };
}
