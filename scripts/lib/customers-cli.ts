// The customer import from the command line (scripts/customers.ts), apart from process state so tests can run it.
import { existsSync, readFileSync } from "node:fs";
import { extname, join } from "node:path";

export interface CliOptions {
  dryRun: boolean;
  fullSync: boolean;
  env: Record<string, string | undefined>;
  /** Where .dev.vars and wrangler.toml are looked for when the environment does not say. */
  root: string;
  print: (line: string) => void;
  fail: (line: string) => void;
}

const USAGE = "usage: npm run customers -- import <file.csv|file.jsonl> [--dry-run] [--full-sync]";
const MEDIA_TYPES: Record<string, string> = {
  ".csv": "text/csv; charset=utf-8",
  ".jsonl": "application/jsonl",
  ".ndjson": "application/x-ndjson",
};

/** KEY=value from a dotenv-style file (.dev.vars) or a TOML `[vars]` line (wrangler.toml). */
function fileVar(path: string, name: string): string | undefined {
  if (!existsSync(path)) return undefined;
  const match = new RegExp(`^${name}\\s*=\\s*"?([^"\\n]*)"?\\s*$`, "m").exec(readFileSync(path, "utf8"));
  return match?.[1]?.trim() || undefined;
}

interface ImportReport {
  mode: string;
  dryRun: boolean;
  counts: Record<"created" | "updated" | "unchanged" | "removed", number>;
}

interface Problem {
  status: number;
  title?: string;
  detail?: string;
  errors?: { line?: number; column?: string | null; rule?: string; detail?: string }[];
}

/** Runs the command; answers the exit code (0 done, 1 refused by the portal or unreachable, 2 usage). */
export async function runCustomersCli(args: readonly string[], options: CliOptions): Promise<number> {
  const [command, file] = args;
  if (command !== "import" || !file || args.length > 2) {
    options.fail(USAGE);
    return 2;
  }
  const type = MEDIA_TYPES[extname(file).toLowerCase()];
  if (!type) {
    options.fail(`${file}: name a .csv, .jsonl or .ndjson file`);
    return 2;
  }
  if (!existsSync(file)) {
    options.fail(`${file}: no such file`);
    return 2;
  }
  const base = options.env.PUBLIC_BASE_URL ?? fileVar(join(options.root, "wrangler.toml"), "PUBLIC_BASE_URL");
  const token = options.env.ADMIN_TOKEN ?? fileVar(join(options.root, ".dev.vars"), "ADMIN_TOKEN");
  if (!base || !token) {
    options.fail("Set PUBLIC_BASE_URL and ADMIN_TOKEN (a local portal reads them from wrangler.toml and .dev.vars).");
    return 2;
  }
  const url = new URL("/api/admin/customers/import", base);
  if (options.dryRun) url.searchParams.set("dryRun", "1");
  if (options.fullSync) url.searchParams.set("mode", "full-sync");

  let res: Response;
  try {
    res = await fetch(url, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": type },
      body: readFileSync(file),
    });
  } catch (error) {
    options.fail(`${url.origin} did not answer: ${(error as Error).message}`);
    return 1;
  }
  const body = (await res.json().catch(() => ({}))) as ImportReport & Problem;
  if (!res.ok) {
    options.fail(`${file}: ${body.detail ?? body.title ?? `HTTP ${res.status}`}`);
    for (const e of body.errors ?? []) {
      options.fail(`line ${e.line ?? "?"}, column ${e.column ?? "-"}: ${e.rule ?? "?"} — ${e.detail ?? ""}`);
    }
    return 1;
  }
  const { counts } = body;
  options.print(
    `${file} (${body.mode}${body.dryRun ? ", dry run: nothing written" : ""}): ${counts.created} created, ` +
      `${counts.updated} updated, ${counts.unchanged} unchanged, ${counts.removed} removed`,
  );
  return 0;
}
