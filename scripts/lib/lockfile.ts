// What makes `npm ci` work on every machine: the lockfile must name every package the tree can need, including the
// per-platform binaries (workerd, Biome, the Astro compiler, esbuild…) of the platforms other than the one that wrote
// it. npm installs only the ones matching the machine (their `os`/`cpu` fields) but `npm ci` refuses a lockfile that
// lacks any of them. `npm run lock` regenerates the file so that it holds them all (README: Run it).

export interface LockEntry {
  readonly version?: string;
  readonly os?: readonly string[];
  readonly cpu?: readonly string[];
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly optionalDependencies?: Readonly<Record<string, string>>;
}

export interface Lockfile {
  readonly lockfileVersion: number;
  readonly packages: Readonly<Record<string, LockEntry>>;
}

export interface MissingPackage {
  /** The lock entry that depends on it ("" is the project itself). */
  readonly from: string;
  readonly name: string;
  readonly optional: boolean;
}

/** Where Node's resolution would find `name` from the package installed at `path`, or undefined. */
function resolveIn(packages: Lockfile["packages"], path: string, name: string): string | undefined {
  let base = path;
  for (;;) {
    const candidate = `${base ? `${base}/` : ""}node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (base === "") return undefined;
    const parent = base.lastIndexOf("/node_modules/");
    base = parent < 0 ? "" : base.slice(0, parent);
  }
}

/**
 * Dependencies and optional dependencies the lockfile does not hold. A lockfile written on one platform after
 * `npm install --omit=optional`, or by an npm that pruned foreign binaries, misses other platforms' packages: those
 * show here as `optional: true`.
 */
export function missingPackages(lock: Lockfile): MissingPackage[] {
  if (lock.lockfileVersion < 2) throw new Error("package-lock.json: lockfileVersion 2 or 3 expected (npm ≥ 7)");
  const missing: MissingPackage[] = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    for (const [deps, optional] of [
      [entry.dependencies, false],
      [entry.optionalDependencies, true],
    ] as const) {
      for (const name of Object.keys(deps ?? {})) {
        if (!resolveIn(lock.packages, path, name)) missing.push({ from: path, name, optional });
      }
    }
  }
  return missing;
}

/** Per-platform packages in the lock, by operating system (`os` field), e.g. darwin → [@cloudflare/workerd-darwin-64…]. */
export function platformPackages(lock: Lockfile): Map<string, string[]> {
  const byOs = new Map<string, string[]>();
  for (const [path, entry] of Object.entries(lock.packages)) {
    for (const os of entry.os ?? []) byOs.set(os, [...(byOs.get(os) ?? []), path.replace(/^.*node_modules\//, "")]);
  }
  return byOs;
}
