// What `npm run validate` checked, handed to the build's content layer (site/content.config.ts) so that one `npm run
// build` parses and validates each sub-processor and change file once, not again in Astro (README "Benchmarks").
// A file's recorded data is used only for the very text that was validated (its SHA-256); any other file, or a build
// started without a record (`astro build` alone), is parsed and validated by the loader as before.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, extname, join, resolve } from "node:path";
import type { Content } from "../domain/content.ts";
import { CONTENT_DIR, type SourceDigests, sourceDigest } from "./load-content.ts";

/** Absolute path of a content file → the SHA-256 of its text and its data as the schema parsed it. */
export type ValidationRecord = Record<string, { sha256: string; data: unknown }>;

/**
 * The record of a valid content tree under `root`: each sub-processor and change file, by the digest it was read
 * with (`loadContent`'s `digests`). The validator holds every file's id equal to its file name, so a file's data is
 * the parsed entry of that id.
 */
export function validationRecord(root: string, content: Content, digests: SourceDigests): ValidationRecord {
  const record: ValidationRecord = {};
  const folders = [
    [resolve(root, CONTENT_DIR, "subprocessors"), new Map(content.subprocessors.map((s) => [s.id, s]))],
    [resolve(root, CONTENT_DIR, "changes"), new Map(content.changes.map((c) => [c.id, c]))],
  ] as const;
  for (const [path, sha256] of digests) {
    const byId = folders.find(([folder]) => dirname(path) === folder)?.[1];
    const data = byId?.get(basename(path, extname(path)));
    if (data) record[path] = { sha256, data };
  }
  return record;
}

export function writeValidationRecord(file: string, record: ValidationRecord): void {
  writeFileSync(file, JSON.stringify(record));
}

/** The record in `file`; none (every file validated by the loader) without a file. */
export function readValidationRecord(file: string | undefined): ValidationRecord {
  if (!file || !existsSync(file)) return {};
  return JSON.parse(readFileSync(file, "utf8")) as ValidationRecord;
}

/** The validated data of the file at `path` if `source` is the text that was validated; otherwise undefined. */
export function validatedData(record: ValidationRecord, path: string, source: string): unknown {
  const known = record[resolve(path)];
  return known && known.sha256 === sourceDigest(source) ? known.data : undefined;
}

/** Where scripts/build.ts puts the record for the Astro build it starts (a fresh temporary folder per build). */
export const recordPath = (dir: string) => join(dir, "validated.json");
