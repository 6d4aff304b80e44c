import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { frontmatter, loadContent, type SourceDigests } from "../../content-io/load-content.ts";
import {
  readValidationRecord,
  type ValidationRecord,
  validatedData,
  validationRecord,
} from "../../content-io/validated.ts";
import { Change, SubProcessor } from "../../domain/schema/index.ts";
import { buildSite } from "./astro-build.ts";

// `npm run build` parses and validates each sub-processor and change file once (content-io/validated.ts): the Astro
// loader takes what `npm run validate` recorded for a file only while the file still has the text that was checked.

const TODAY = "2026-11-23";
const tmp = mkdtempSync(join(tmpdir(), "build-validated-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const digests: SourceDigests = new Map();
const loaded = loadContent(".", TODAY, { digests });
if (!loaded.content) throw new Error(`shipped content is invalid: ${JSON.stringify(loaded.errors)}`);
const record = validationRecord(".", loaded.content, digests);

describe("the validation record", () => {
  const folders = [
    ["subprocessors", SubProcessor],
    ["changes", Change],
  ] as const;

  it("holds every sub-processor and change file with the data the loader's schema gives it, through JSON", () => {
    const stored = JSON.parse(JSON.stringify(record)) as ValidationRecord;
    let files = 0;
    for (const [folder, schema] of folders) {
      for (const name of readdirSync(join("content", folder)).filter((n) => n.endsWith(".mdx"))) {
        const path = resolve("content", folder, name);
        const parsed = schema.parse(frontmatter(readFileSync(path, "utf8")).data);
        expect(stored[path]?.data).toStrictEqual(parsed);
        files++;
      }
    }
    expect(Object.keys(record)).toHaveLength(files);
  });

  it("gives a file's data for the text that was validated only", () => {
    const path = resolve("content/subprocessors/aws-europe.mdx");
    const source = readFileSync(path, "utf8");
    expect(validatedData(record, "content/subprocessors/aws-europe.mdx", source)).toBe(record[path]?.data);
    expect(validatedData(record, path, source.replace("third-party", "affiliate"))).toBeUndefined();
    expect(validatedData(record, `${path}.copy`, source)).toBeUndefined();
    expect(readValidationRecord(undefined)).toEqual({});
    expect(readValidationRecord(join(tmp, "none.json"))).toEqual({});
  });
});

describe("a build handed a record", () => {
  const root = join(tmp, "copy");
  cpSync("content", join(root, "content"), { recursive: true });
  const file = join(root, "content/subprocessors/aws-europe.mdx");
  const recordFile = join(tmp, "validated.json");
  execFileSync(process.execPath, ["scripts/validate.ts", "--root", root, "--record", recordFile], { stdio: "pipe" });
  const env = { CONTENT_DIR: join(root, "content"), CONTENT_VALIDATED: recordFile };

  it("takes the recorded data of a file whose text is unchanged", () => {
    // Only the record says this name: the page shows it, so the loader read the record, not the file.
    const recorded = readValidationRecord(recordFile);
    const entry = recorded[file]?.data as { timeline: { name: string }[] };
    for (const state of entry.timeline) state.name = "Name from the record";
    writeFileSync(recordFile, JSON.stringify(recorded));
    const out = join(tmp, "dist");
    buildSite(out, TODAY, { ...env, ASTRO_CACHE_DIR: join(tmp, "cache") });
    expect(readFileSync(join(out, "en/subprocessors/aws-europe/index.html"), "utf8")).toContain("Name from the record");
  });

  it("validates a file changed since the record and fails on it, naming the file and the field", () => {
    writeFileSync(file, readFileSync(file, "utf8").replace("relationship: third-party", "relationship: nobody"));
    let stderr = "";
    try {
      buildSite(join(tmp, "dist-invalid"), TODAY, { ...env, ASTRO_CACHE_DIR: join(tmp, "cache-invalid") });
    } catch (error) {
      stderr = `${(error as { stdout?: Buffer }).stdout}${(error as { stderr?: Buffer }).stderr}`;
    }
    expect(stderr).toMatch(/aws-europe/);
    expect(stderr).toMatch(/relationship/);
  });
});
