// `npm run preview-notice -- --base <git ref> [--out preview-notice/] [--subscribers <counts.json>] [--d1 <file|dir>]`
// Prints (as Markdown, ready for a CI job summary) what merging the working tree would publish compared with <ref>:
// the Annex C diff in the notice's words, the fingerprint before and after, who would be told by topic, region and
// locale, and writes the rendered da/en notice emails (HTML + text) to the out folder for a reviewer to open.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadContent } from "../content-io/load-content.ts";
import { buildDate } from "../content-io/today.ts";
import { formatError } from "../domain/validate.ts";
import { contentAtRef, GitError } from "./lib/git.ts";
import {
  type Audience,
  countsFromD1,
  findLocalD1,
  findSqliteFiles,
  parseSubscriberCounts,
  previewNotice,
} from "./lib/preview-notice.ts";

const { values } = parseArgs({
  options: {
    base: { type: "string" },
    root: { type: "string", default: "." },
    out: { type: "string", default: "preview-notice" },
    subscribers: { type: "string" },
    d1: { type: "string" },
    "base-url": { type: "string" },
  },
});

if (!values.base) {
  console.error("usage: npm run preview-notice -- --base <git ref> [--out preview-notice/] [--subscribers <json>]");
  process.exit(2);
}
const root = values.root ?? ".";
const out = values.out ?? "preview-notice";
const today = buildDate();
// The notice is assumed to be received at noon Copenhagen time on the build date, so the preview is reproducible.
const now = new Date(`${today}T11:00:00Z`);
const baseUrl = values["base-url"] ?? process.env.PUBLIC_BASE_URL ?? "http://127.0.0.1:8787";

const head = loadContent(root, today);
if (!head.content) {
  for (const error of head.errors) console.error(formatError(error));
  console.error(`\n✖ the content does not validate (${head.errors.length} errors): run npm run validate first.`);
  process.exit(1);
}

async function audience(): Promise<Audience> {
  if (values.subscribers) {
    const groups = parseSubscriberCounts(JSON.parse(readFileSync(values.subscribers, "utf8")));
    return { source: `subscriber-count file ${values.subscribers}`, groups };
  }
  const candidates = values.d1 ? findSqliteFiles(values.d1) : findLocalD1(root);
  for (const file of candidates) {
    try {
      const groups = await countsFromD1(file);
      if (groups) return { source: "the local D1 database (npm start)", groups };
    } catch (error) {
      if (values.d1) return { source: "", reason: `could not read ${file}: ${(error as Error).message}` };
    }
  }
  return {
    source: "",
    reason:
      "no --subscribers file was given and no local D1 database with subscribers was found (run npm start, or pass --subscribers counts.json)",
  };
}

let base: ReturnType<typeof contentAtRef>;
try {
  base = contentAtRef(values.base, root);
} catch (error) {
  console.error(`✖ ${error instanceof GitError ? error.message : String(error)}`);
  process.exit(2);
}
try {
  const before = base.hasContent ? loadContent(base.root, today) : undefined;
  if (before && !before.content) {
    console.error(
      `✖ ${values.base} does not validate under today's rules (${before.errors.length} errors); cannot compare.`,
    );
    process.exit(1);
  }
  const preview = await previewNotice(before?.content, head.content, {
    baseLabel: `${values.base} (${base.commit.slice(0, 12)})`,
    audience: await audience(),
    baseUrl,
    now,
  });
  // Clear only what an earlier preview wrote, so a mistyped --out never deletes anything else.
  mkdirSync(out, { recursive: true });
  for (const name of readdirSync(out)) {
    if (name === "summary.md" || /^[a-z]{2}-[a-z0-9-]+\.(html|txt)$/.test(name)) rmSync(join(out, name));
  }
  for (const { locale, region, email } of preview.emails) {
    const name = `${locale}-${region}`;
    writeFileSync(join(out, `${name}.html`), email.html);
    writeFileSync(
      join(out, `${name}.txt`),
      `Subject: ${email.subject}\n${Object.entries(email.headers)
        .map(([k, v]) => `${k}: ${v}`)
        .join("\n")}\n\n${email.text}`,
    );
  }
  writeFileSync(join(out, "summary.md"), preview.markdown);
  process.stdout.write(preview.markdown);
  if (preview.emails.length > 0) {
    process.stdout.write(
      `\nWrote ${preview.emails.length * 2} files to ${out}/ (open the .html files in a browser).\n`,
    );
  }
} finally {
  base.cleanup();
}
