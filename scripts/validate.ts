// `npm run validate [-- --root <dir>] [-- --base <git ref>] [-- --production] [-- --record <file>]`: checks content/
// and prints one line per error (file: field: [rule] message). With --base (pull requests), it also compares the
// content with that revision and applies the history rules in domain/history.ts. With --production (or
// PORTAL_BUILD=production, as the deploy workflow sets), placeholder or unconfirmed contact data is an error;
// otherwise it is printed as a warning. With --record, valid content is also written to <file> for the build that
// follows (content-io/validated.ts: `npm run build` parses each file once).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  CONTENT_DIR,
  frontmatter,
  isProductionBuild,
  loadContent,
  type SourceDigests,
} from "../content-io/load-content.ts";
import { buildDate } from "../content-io/today.ts";
import { validationRecord, writeValidationRecord } from "../content-io/validated.ts";
import { checkHistory, formatHistoryError } from "../domain/history.ts";
import { formatError } from "../domain/validate.ts";
import { contentAtRef, GitError } from "./lib/git.ts";

/**
 * In GitHub Actions, each error is also printed as a workflow command, so it shows on the file in the pull request.
 * https://docs.github.com/actions/reference/workflow-commands-for-github-actions#setting-an-error-message
 */
function annotate(
  errors: { file: string; field: string; rule: string; message: string }[],
  level: "error" | "warning" = "error",
): void {
  if (process.env.GITHUB_ACTIONS !== "true") return;
  const data = (s: string) => s.replaceAll("%", "%25").replaceAll("\r", "%0D").replaceAll("\n", "%0A");
  const property = (s: string) => data(s).replaceAll(":", "%3A").replaceAll(",", "%2C");
  for (const e of errors) {
    console.log(
      `::${level} file=${property(e.file)},title=${property(`[${e.rule}] ${e.field || "(file)"}`)}::${data(e.message)}`,
    );
  }
}

/** The MDX body of every change entry under `root`, by file name (which the validator makes equal to the id). */
function changeBodies(root: string): Map<string, string> {
  const dir = join(root, CONTENT_DIR, "changes");
  const bodies = new Map<string, string>();
  if (!existsSync(dir)) return bodies;
  for (const name of readdirSync(dir).filter((n) => /\.mdx?$/.test(n))) {
    bodies.set(name.replace(/\.mdx?$/, ""), frontmatter(readFileSync(join(dir, name), "utf8")).body);
  }
  return bodies;
}

const { values } = parseArgs({
  options: {
    root: { type: "string", default: "." },
    base: { type: "string" },
    production: { type: "boolean" },
    record: { type: "string" },
  },
});
const root = values.root ?? ".";
const today = buildDate();
const production = values.production === true || isProductionBuild();
const digests: SourceDigests = new Map();
const { content, errors, warnings } = loadContent(root, today, { production, digests });

for (const warning of warnings) console.log(`warning: ${formatError(warning)}`);
annotate(warnings, "warning");
if (warnings.length > 0) {
  console.log(`⚠ ${warnings.length} warning${warnings.length === 1 ? "" : "s"}: a production build refuses them.\n`);
}

if (errors.length > 0) {
  for (const error of errors) console.error(formatError(error));
  annotate(errors);
  console.error(`\n✖ ${errors.length} content error${errors.length === 1 ? "" : "s"}; nothing was built.`);
  process.exit(1);
}
if (values.record && content) writeValidationRecord(values.record, validationRecord(root, content, digests));
console.log(
  `✔ content is valid: ${content?.subprocessors.length} sub-processors, ${content?.changes.length} changes, ${content?.dpaVersions.length} DPA versions (checked for ${today})`,
);

if (values.base && content) {
  let base: ReturnType<typeof contentAtRef>;
  try {
    base = contentAtRef(values.base, root);
  } catch (error) {
    console.error(`✖ ${error instanceof GitError ? error.message : String(error)}`);
    process.exit(2);
  }
  try {
    const short = base.commit.slice(0, 12);
    if (!base.hasContent) {
      console.log(`• ${values.base} (${short}) has no content/ folder: nothing to compare, history rules skipped`);
      process.exit(0);
    }
    const before = loadContent(base.root, today);
    if (!before.content) {
      // The base itself does not validate (e.g. an older schema): there is no trustworthy history to compare with.
      console.log(
        `• ${values.base} (${short}) does not validate under today's rules (${before.errors.length} errors): history rules skipped`,
      );
      process.exit(0);
    }
    const history = checkHistory(before.content, content, {
      today,
      bodies: { base: changeBodies(base.root), head: changeBodies(root) },
    });
    if (history.length > 0) {
      for (const error of history) console.error(formatHistoryError(error));
      annotate(history);
      console.error(
        `\n✖ ${history.length} history error${history.length === 1 ? "" : "s"} compared with ${values.base} (${short}).`,
      );
      process.exit(1);
    }
    console.log(`✔ history is intact compared with ${values.base} (${short})`);
  } finally {
    base.cleanup();
  }
}
