// Reads content/ from disk into the raw form the pure validator takes. The only I/O step between files and domain/.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { parse as parseYaml } from "yaml";
import type { Content } from "../domain/content.ts";
import { type ContentError, type RawContent, type RawFile, validateContent } from "../domain/validate.ts";
import { buildDate } from "./today.ts";

export const CONTENT_DIR = "content";

/** Frontmatter of an MDX/Markdown file, parsed as YAML; a file without frontmatter yields an empty object. */
export function frontmatter(source: string): { data: unknown; body: string } {
  const match = /^---\r?\n([\s\S]*?)\r?\n---\r?\n?/.exec(source);
  if (!match) return { data: {}, body: source };
  return { data: parseYaml(match[1] ?? "") ?? {}, body: source.slice(match[0].length) };
}

function readYamlFile(root: string, path: string): RawFile {
  const rel = relative(root, path);
  try {
    const source = readFileSync(path, "utf8");
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

/** Reads every content file under `root/content` (root = a repository checkout). */
export function readRawContent(root: string): RawContent {
  const dir = join(root, CONTENT_DIR);
  const dpaDir = join(dir, "dpa");
  const dpaFolders = existsSync(dpaDir)
    ? readdirSync(dpaDir)
        .filter((name) => statSync(join(dpaDir, name)).isDirectory())
        .sort()
    : [];
  return {
    vendor: readYamlFile(root, join(dir, "vendor.yaml")),
    subprocessors: listFiles(join(dir, "subprocessors"), /\.mdx?$/).map((p) => readYamlFile(root, p)),
    changes: listFiles(join(dir, "changes"), /\.mdx?$/).map((p) => readYamlFile(root, p)),
    dpa: dpaFolders.flatMap((v) => listFiles(join(dpaDir, v), /\.mdx?$/).map((p) => readYamlFile(root, p))),
  };
}

export function loadContent(root: string, today = buildDate()): { content?: Content; errors: ContentError[] } {
  return validateContent(readRawContent(root), { today });
}
