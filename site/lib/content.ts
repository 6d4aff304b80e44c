import { type CollectionEntry, getCollection } from "astro:content";
import { type Content, dpaVersionsFrom } from "../../domain/content.ts";

// Builds the domain `Content` from the Astro collections once per build; pages only render what domain/ computes.

export interface SiteContent extends Content {
  /** MDX entries, for rendering bodies (change notes, DPA text). */
  entries: {
    subprocessors: Map<string, CollectionEntry<"subprocessors">>;
    changes: Map<string, CollectionEntry<"changes">>;
    /** Keyed by "<version>/<locale>". */
    dpa: Map<string, CollectionEntry<"dpa">>;
  };
}

let cached: Promise<SiteContent> | undefined;

/** Once per build; in `astro dev` every request rebuilds it, so edits under content/ show up on reload. */
export function loadContent(): Promise<SiteContent> {
  if (import.meta.env.DEV) return build();
  cached ??= build();
  return cached;
}

async function build(): Promise<SiteContent> {
  const [vendorEntries, subprocessors, changes, dpa] = await Promise.all([
    getCollection("vendor"),
    getCollection("subprocessors"),
    getCollection("changes"),
    getCollection("dpa"),
  ]);
  const vendor = vendorEntries[0]?.data;
  if (!vendor) throw new Error("content/vendor.yaml is missing");
  return {
    vendor,
    subprocessors: subprocessors.map((e) => e.data).sort((a, b) => a.id.localeCompare(b.id)),
    changes: changes.map((e) => e.data).sort((a, b) => a.id.localeCompare(b.id)),
    dpaVersions: dpaVersionsFrom(dpa.map((e) => e.data)),
    entries: {
      subprocessors: new Map(subprocessors.map((e) => [e.data.id, e])),
      changes: new Map(changes.map((e) => [e.data.id, e])),
      dpa: new Map(dpa.map((e) => [`${e.data.version}/${e.data.locale}`, e])),
    },
  };
}
