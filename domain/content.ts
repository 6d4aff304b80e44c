import type { Change } from "./schema/change.ts";
import type { DpaVersion } from "./schema/dpa.ts";
import type { SubProcessor } from "./schema/subprocessor.ts";
import type { Vendor } from "./schema/vendor.ts";

/** One DPA version with the locales it is published in (the text itself stays with the site). */
export interface DpaVersionInfo {
  version: string;
  effectiveFrom: string;
  effectiveUntil?: string;
  title: Partial<Record<string, string>>;
  locales: string[];
}

/** Everything the portal publishes, already validated. Built by the content loader or by Astro collections. */
export interface Content {
  vendor: Vendor;
  subprocessors: SubProcessor[];
  changes: Change[];
  dpaVersions: DpaVersionInfo[];
}

export function dpaVersionsFrom(files: DpaVersion[]): DpaVersionInfo[] {
  const byVersion = new Map<string, DpaVersionInfo>();
  for (const f of files) {
    const info = byVersion.get(f.version) ?? {
      version: f.version,
      effectiveFrom: f.effectiveFrom,
      ...(f.effectiveUntil ? { effectiveUntil: f.effectiveUntil } : {}),
      title: {},
      locales: [],
    };
    info.title[f.locale] = f.title;
    info.locales.push(f.locale);
    info.locales.sort();
    byVersion.set(f.version, info);
  }
  return [...byVersion.values()].sort((a, b) => a.effectiveFrom.localeCompare(b.effectiveFrom));
}

/** The DPA version in force on `on`: the latest that has started and not ended. */
export function currentDpaVersion(versions: DpaVersionInfo[], on: string): DpaVersionInfo | undefined {
  return versions.filter((v) => v.effectiveFrom <= on && (!v.effectiveUntil || v.effectiveUntil >= on)).at(-1);
}
