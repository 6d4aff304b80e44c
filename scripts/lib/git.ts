// Reads the content tree of another git revision (the base of a pull request) into a temporary folder, so the
// validator and the notice preview can load it exactly like the working tree. Local git only: no network.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { CONTENT_DIR } from "../../content-io/load-content.ts";

/** A git archive of content/ is a few hundred kilobytes; this leaves room for years of change entries. */
const MAX_ARCHIVE_BYTES = 256 * 1024 * 1024;

export class GitError extends Error {}

function git(cwd: string, args: string[]): string {
  const run = spawnSync("git", args, { cwd, encoding: "utf8", maxBuffer: MAX_ARCHIVE_BYTES });
  if (run.error) throw new GitError(`git ${args.join(" ")}: ${run.error.message}`);
  if (run.status !== 0) throw new GitError(`git ${args.join(" ")}: ${run.stderr.trim() || `exit ${run.status}`}`);
  return run.stdout.trim();
}

/** The full commit id `ref` points at, or a GitError that says how to fetch it (CI checks out shallow by default). */
export function resolveCommit(ref: string, cwd = "."): string {
  try {
    return git(cwd, ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`]);
  } catch {
    throw new GitError(
      `git revision "${ref}" was not found. In CI, check out with fetch-depth: 0 (or git fetch the base branch) so the base of the pull request is available.`,
    );
  }
}

export interface ContentAtRef {
  /** A folder laid out like the repository root: pass it to readRawContent / loadContent. */
  root: string;
  commit: string;
  /** False when the revision has no content/ folder (e.g. a base from before the portal existed). */
  hasContent: boolean;
  /** Deletes the temporary folder. */
  cleanup: () => void;
}

/**
 * Extracts `<ref>:content/` (relative to `root`, which may be a sub-folder of the repository) into a temporary
 * folder with `git archive | tar -x`. The working tree and index are never touched.
 */
export function contentAtRef(ref: string, root = "."): ContentAtRef {
  const top = git(root, ["rev-parse", "--show-toplevel"]);
  const commit = resolveCommit(ref, root);
  const prefix = relative(top, resolve(root));
  const contentPath = prefix ? join(prefix, CONTENT_DIR) : CONTENT_DIR;
  const dir = mkdtempSync(join(tmpdir(), "content-at-ref-"));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  const out = join(dir, prefix);
  mkdirSync(out, { recursive: true });
  const listed = git(top, ["ls-tree", "-d", "--name-only", commit, "--", contentPath]);
  if (listed === "") return { root: out, commit, hasContent: false, cleanup };
  const archive = spawnSync("git", ["archive", "--format=tar", commit, "--", contentPath], {
    cwd: top,
    maxBuffer: MAX_ARCHIVE_BYTES,
  });
  if (archive.status !== 0) {
    cleanup();
    throw new GitError(`git archive ${ref}: ${archive.stderr.toString().trim()}`);
  }
  const tar = spawnSync("tar", ["-x", "-C", dir], { input: archive.stdout });
  if (tar.status !== 0) {
    cleanup();
    throw new GitError(`tar -x: ${tar.stderr.toString().trim()}`);
  }
  return { root: out, commit, hasContent: true, cleanup };
}
