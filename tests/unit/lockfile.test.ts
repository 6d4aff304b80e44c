import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type Lockfile, missingPackages, platformPackages } from "../../scripts/lib/lockfile.ts";

// `npm ci` on a clean clone (CI, a colleague's Mac, Windows) needs every platform's binaries in the lockfile.

const lock = JSON.parse(readFileSync("package-lock.json", "utf8")) as Lockfile;

function without(paths: string[]): Lockfile {
  const packages = { ...lock.packages };
  for (const path of paths) delete packages[path];
  return { ...lock, packages };
}

describe("package-lock.json", () => {
  it("holds every dependency and optional dependency of every locked package (npm run lock regenerates it)", () => {
    expect(missingPackages(lock)).toEqual([]);
  });

  it("holds macOS, Windows and Linux binaries of the tools that ship them", () => {
    const byOs = platformPackages(lock);
    for (const os of ["darwin", "win32", "linux"]) {
      const names = byOs.get(os) ?? [];
      for (const tool of [/^@cloudflare\/workerd-/, /^@biomejs\/cli-/, /^@astrojs\/compiler-binding-/, /^@esbuild\//])
        expect(
          names.some((n) => tool.test(n)),
          `${os}: ${tool}`,
        ).toBe(true);
    }
  });

  it("the check names another platform's binary when it is missing, and who needs it", () => {
    const missing = missingPackages(
      without(["node_modules/@cloudflare/workerd-darwin-arm64", "node_modules/@biomejs/cli-win32-x64"]),
    );
    expect(missing).toEqual([
      { from: "node_modules/@biomejs/biome", name: "@biomejs/cli-win32-x64", optional: true },
      { from: "node_modules/workerd", name: "@cloudflare/workerd-darwin-arm64", optional: true },
    ]);
  });
});
