import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { bucketProfile, type CpuProfile, type ModuleLines, moduleLines } from "../../scripts/bench/build-profile.ts";

// The build benchmark's profile (README "Benchmarks"): each sample of `astro build` in one bucket, by the source
// module of the code that ran, also inside the chunks Astro bundles and deletes.

const ROOT = "/repo";
const CHUNK = "/repo/.astro/.prerender/chunks/annex_X1.mjs";
const tmp = mkdtempSync(join(tmpdir(), "build-profile-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("the map from chunk lines to modules", () => {
  it("names the first line of every module the bundler copied into a chunk", () => {
    const file = join(tmp, "modules.json");
    const astroRuntime = "export function render() {\n  return 1;\n}\n";
    const annex = "function annexOn() {\n  return [];\n}\n";
    const plugin = moduleLines(file);
    plugin.generateBundle(
      { dir: "/repo/.astro/.prerender/chunks" },
      {
        "annex_X1.mjs": {
          type: "chunk",
          code: `import "x";\n${astroRuntime}//#glue\n${annex}export { annexOn };\n`,
          modules: {
            "/repo/node_modules/astro/dist/runtime/server/render.js": { code: astroRuntime },
            "/repo/site/lib/annex.ts": { code: annex },
            "/repo/domain/unused.ts": { code: null },
          },
        },
        "style.css": { type: "asset" },
      },
    );
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({
      [CHUNK]: [
        [1, "/repo/node_modules/astro/dist/runtime/server/render.js"],
        [5, "/repo/site/lib/annex.ts"],
      ],
    });
    // A second bundle (Astro's client build, another copy of the plugin) adds its chunks; the first ones stay.
    moduleLines(file).generateBundle(
      { dir: "/repo/dist/_astro" },
      {
        "page.js": { type: "chunk", code: annex, modules: { "/repo/site/lib/annex.ts": { code: annex } } },
      },
    );
    const both = JSON.parse(readFileSync(file, "utf8"));
    expect(Object.keys(both).sort()).toEqual([
      "/repo/.astro/.prerender/chunks/annex_X1.mjs",
      "/repo/dist/_astro/page.js",
    ]);
  });
});

describe("samples in buckets", () => {
  const modules: ModuleLines = {
    [CHUNK]: [
      [0, "/repo/node_modules/astro/dist/runtime/server/render.js"],
      [100, "/repo/site/lib/annex.ts"],
      [200, "/repo/site/pages/annex-c/[date].json.ts"],
      [300, "/repo/site/components/Table.astro"],
    ],
  };
  const frame = (functionName: string, url: string, lineNumber = 0) => ({ functionName, url, lineNumber });
  const chunk = `file://${CHUNK}`;
  // id: [frame, parent id]
  const tree: Record<number, [ReturnType<typeof frame>, number?]> = {
    1: [frame("(root)", "")],
    2: [frame("(garbage collector)", ""), 1],
    3: [frame("(idle)", ""), 1],
    4: [frame("(program)", ""), 1],
    5: [frame("generatePages", "file:///repo/node_modules/astro/dist/core/build/generate.js"), 1],
    6: [frame("renderPage", chunk, 10), 5],
    7: [frame("$$Table", chunk, 310), 6],
    8: [frame("annexOn", chunk, 120), 7],
    9: [frame("encode", "node:internal/encoding"), 8],
    10: [frame("encodeUtf8String", ""), 9],
    11: [frame("encode", "node:internal/encoding"), 6],
    12: [frame("GET", chunk, 210), 5],
    13: [frame("annexOn", chunk, 120), 12],
    14: [frame("stringify", "file:///repo/node_modules/csv-stringify/dist/esm/index.js"), 13],
    15: [frame("writeFile", "node:internal/fs/promises"), 5],
    16: [frame("openFileHandle", ""), 15],
    17: [frame("syncData", "file:///repo/node_modules/astro/dist/content/content-layer.js"), 1],
    18: [frame("load", "file:///repo/site/content.config.ts"), 17],
    19: [frame("parse", "file:///repo/node_modules/zod/v4/core/parse.js"), 18],
    20: [frame("readFile", "node:internal/fs/promises"), 18],
    21: [frame("render", "file:///repo/node_modules/vite/dist/node/chunks/node.js"), 5],
    22: [frame("escape", "file:///repo/node_modules/html-escaper/esm/index.js"), 21],
    23: [frame("glue", chunk, 0), 1],
  };
  const nodes: CpuProfile["nodes"] = Object.entries(tree).map(([id, [callFrame]]) => ({
    id: Number(id),
    callFrame,
    children: Object.entries(tree)
      .filter(([, [, parent]]) => parent === Number(id))
      .map(([child]) => Number(child)),
  }));
  /** One sample of `ms` milliseconds on each leaf given. */
  const profile = (samples: [number, number][]): CpuProfile => ({
    nodes,
    samples: samples.map(([id]) => id),
    timeDeltas: samples.map(([, ms]) => ms * 1000),
  });

  it("puts each sample where its module and its callers say", () => {
    const result = bucketProfile(
      [
        profile([
          [2, 30], // gc
          [3, 500], // idle: waiting, not CPU
          [4, 7], // other
          [8, 11], // a portal function called from a component
          [10, 13], // native text encoding a portal function asked for: portal
          [11, 17], // text encoding Astro's page renderer asked for: astro
          [6, 19], // Astro's runtime, bundled into the same chunk
          [13, 23], // under an endpoint: machine-readable files, even in shared code
          [14, 29], // a library an endpoint calls
          [16, 31], // the file system
          [19, 37], // zod under the content layer
          [20, 41], // the content layer reading files: the file system
          [22, 43], // a library Vite calls: astro
          [23, 47], // chunk glue before any module: astro
        ]),
      ],
      modules,
      ROOT,
    );
    const ms = Object.fromEntries(Object.entries(result.seconds).map(([b, s]) => [b, Math.round(s * 1e6) / 1e3]));
    expect(ms).toEqual({
      gc: 30,
      machineFiles: 23 + 29,
      fileIO: 31 + 41,
      contentLayer: 37,
      portal: 11 + 13,
      astro: 17 + 19 + 43 + 47,
      other: 7,
    });
    expect(result.idleSeconds).toBe(0.5);
    expect(result.cpuSeconds).toBeCloseTo((30 + 7 + 11 + 13 + 17 + 19 + 23 + 29 + 31 + 37 + 41 + 43 + 47) / 1000, 9);
  });

  it("adds up the profiles of several threads", () => {
    const one = bucketProfile([profile([[8, 5]])], modules, ROOT);
    const two = bucketProfile(
      [
        profile([[8, 5]]),
        profile([
          [8, 5],
          [2, 1],
        ]),
      ],
      modules,
      ROOT,
    );
    expect(one.seconds.portal).toBe(0.005);
    expect(two.seconds.portal).toBe(0.01);
    expect(two.seconds.gc).toBe(0.001);
  });
});
