// Reads content/ from disk into the raw form the pure validator takes. The only I/O step between files and domain/.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import type { Content } from "../domain/content.ts";
import { type ContentError, type RawContent, type RawFile, validateContent } from "../domain/validate.ts";
import { buildDate } from "./today.ts";

export const CONTENT_DIR = "content";

const FRONTMATTER = /^---\r?\n([\s\S]*?)\r?\n---\r?\n?/;

/** Frontmatter of an MDX/Markdown file, parsed as YAML; a file without frontmatter yields an empty object. */
export function frontmatter(source: string): { data: unknown; body: string } {
  const match = FRONTMATTER.exec(source);
  if (!match) return { data: {}, body: source };
  return { data: parseYaml(match[1] ?? "") ?? {}, body: source.slice(match[0].length) };
}

/** SHA-256 of a content file's text: what a validation record (content-io/validated.ts) says it checked. */
export function sourceDigest(source: string): string {
  return createHash("sha256").update(source).digest("hex");
}

/** The text of `source` after its frontmatter, without parsing the frontmatter. */
export function bodyAfterFrontmatter(source: string): string {
  const match = FRONTMATTER.exec(source);
  return match ? source.slice(match[0].length) : source;
}

/** Absolute path → SHA-256 of the text each file was read and validated with. */
export type SourceDigests = Map<string, string>;

function readYamlFile(root: string, path: string, digests?: SourceDigests): RawFile {
  const rel = relative(root, path);
  try {
    const source = readFileSync(path, "utf8");
    digests?.set(resolve(path), sourceDigest(source));
    return {
      path: rel,
      data: path.endsWith(".yaml") || path.endsWith(".yml") ? parseYaml(source) : frontmatter(source).data,
    };
  } catch (error) {
    // A YAML syntax error becomes a schema error on the file rather than a crash.
    return { path: rel, data: { __unreadable: (error as Error).message } };
  }
}

function listFiles(dir: string, pattern: RegExp): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => pattern.test(name))
    .sort()
    .map((name) => join(dir, name));
}

/**
 * Reads every content file under `root/content` (root = a repository checkout); `digests`, when given, receives the
 * SHA-256 of each file's text as read.
 */
export function readRawContent(root: string, digests?: SourceDigests): RawContent {
  const dir = join(root, CONTENT_DIR);
  const dpaDir = join(dir, "dpa");
  const dpaFolders = existsSync(dpaDir)
    ? readdirSync(dpaDir)
        .filter((name) => statSync(join(dpaDir, name)).isDirectory())
        .sort()
    : [];
  return {
    vendor: readYamlFile(root, join(dir, "vendor.yaml")),
    subprocessors: listFiles(join(dir, "subprocessors"), /\.mdx?$/).map((p) => readYamlFile(root, p, digests)),
    changes: listFiles(join(dir, "changes"), /\.mdx?$/).map((p) => readYamlFile(root, p, digests)),
    dpa: dpaFolders.flatMap((v) => listFiles(join(dpaDir, v), /\.mdx?$/).map((p) => readYamlFile(root, p))),
  };
}

/** A production build (the deploy workflow sets PORTAL_BUILD=production): placeholder contact data is an error. */
export function isProductionBuild(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.PORTAL_BUILD === "production";
}

export function loadContent(
  root: string,
  today = buildDate(),
  options: { production?: boolean; digests?: SourceDigests } = {},
): { content?: Content; errors: ContentError[]; warnings: ContentError[] } {
  return validateContent(readRawContent(root, options.digests), { today, production: options.production ?? false });
}
