import { defineCollection } from "astro:content";
import { readdir, readFile } from "node:fs/promises";
import { glob, type Loader } from "astro/loaders";
import { z } from "astro/zod";
import { parse } from "yaml";
import { bodyAfterFrontmatter, frontmatter as splitFrontmatter } from "../content-io/load-content.ts";
import { readValidationRecord, validatedData } from "../content-io/validated.ts";
import { Change, DpaVersion, SubProcessor, Vendor } from "../domain/schema/index.ts";

// The collections read content/ (what vendor staff edit) and validate it with the domain's own schemas, so an
// author sees the same error here as from `npm run validate` (the schema is the documentation: README "Content model").

/** content/ by default; CONTENT_DIR points the build at another tree (the build benchmark's generated vendor). */
const CONTENT = process.env.CONTENT_DIR || "./content";

/**
 * Astro's frontmatter parser turns unquoted YAML dates (`version: 2024-07-01`) into Date objects, while the
 * validator's YAML reader keeps them as text. Turning them back into YYYY-MM-DD text first means both read the same
 * file the same way, and the domain schema (not a second copy of it) decides what is valid.
 */
function yamlDatesAsText(value: unknown): unknown {
  if (value instanceof Date && !Number.isNaN(value.getTime())) return value.toISOString().slice(0, 10);
  if (Array.isArray(value)) return value.map(yamlDatesAsText);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, yamlDatesAsText(v)]));
  }
  return value;
}

function frontmatter<T extends z.ZodType>(schema: T) {
  return z.preprocess(yamlDatesAsText, schema);
}

/**
 * What `npm run validate` checked just before, when `npm run build` started this build (scripts/build.ts): a file
 * whose text is the one validated takes its data from there instead of being parsed and checked again (about 0.6 s of
 * a 3,000-file build). Any other file, and every file of a build started otherwise, is parsed and checked here.
 */
const validated = readValidationRecord(process.env.CONTENT_VALIDATED);

/**
 * Sub-processor and change files keep their data in frontmatter and rarely have a body, so they are read as data
 * (the same frontmatter reader as `npm run validate`) and a body, when there is one, is rendered as Markdown. Compiling
 * each one as an MDX module instead cost about 10 ms a file in the build (3,000 files: half a minute).
 */
function frontmatterFiles(dir: string): Loader {
  return {
    name: "frontmatter-files",
    load: async ({ store, parseData, renderMarkdown, generateDigest, watcher }) => {
      const read = async () => {
        const names = (await readdir(dir)).filter((n) => n.endsWith(".mdx")).sort();
        store.clear();
        for (const name of names) {
          const filePath = `${dir}/${name}`;
          const source = await readFile(filePath, "utf8");
          const id = name.replace(/\.mdx$/, "");
          const known = validatedData(validated, filePath, source) as Record<string, unknown> | undefined;
          const { data: raw, body } = known
            ? { data: known, body: bodyAfterFrontmatter(source) }
            : splitFrontmatter(source);
          const data = known ?? (await parseData({ id, data: raw as Record<string, unknown>, filePath }));
          const rendered = body.trim() ? await renderMarkdown(body) : undefined;
          store.set({ id, data, body, digest: generateDigest(source), ...(rendered ? { rendered } : {}) });
        }
      };
      await read();
      watcher?.add(dir);
      watcher?.on("change", (changed) => {
        if (changed.startsWith(dir) || changed.includes("/content/")) void read();
      });
    },
  };
}

const subprocessors = defineCollection({
  loader: frontmatterFiles(`${CONTENT}/subprocessors`),
  schema: frontmatter(SubProcessor),
});

const changes = defineCollection({
  loader: frontmatterFiles(`${CONTENT}/changes`),
  schema: frontmatter(Change),
});

/** content/dpa/<version>/<locale>.mdx; entry ids are "<version>/<locale>". */
const dpa = defineCollection({
  loader: glob({ base: `${CONTENT}/dpa`, pattern: "*/*.mdx" }),
  schema: frontmatter(DpaVersion),
});

/** vendor.yaml is one object, not a list of entries, so it gets a one-entry loader of its own. */
const vendor = defineCollection({
  loader: {
    name: "vendor-yaml",
    load: async ({ store, parseData, watcher }) => {
      const path = `${CONTENT}/vendor.yaml`;
      const load = async () => {
        const raw = parse(await readFile(path, "utf8")) as Record<string, unknown>;
        const data = await parseData({ id: "vendor", data: raw, filePath: path });
        store.clear();
        store.set({ id: "vendor", data });
      };
      await load();
      watcher?.add(path);
      watcher?.on("change", (changed) => {
        if (changed.endsWith("vendor.yaml")) void load();
      });
    },
  },
  schema: Vendor,
});

export const collections = { subprocessors, changes, dpa, vendor };
