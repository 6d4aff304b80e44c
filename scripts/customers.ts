// `npm run customers -- import <file> [--dry-run] [--full-sync]`
// Imports a customer list (CSV or JSON lines, by the file's extension) through POST /api/admin/customers/import on
// PUBLIC_BASE_URL with ADMIN_TOKEN, both from the environment or, for a local portal, from .dev.vars and wrangler.toml.
// Prints the report, or every error as `line N, column C: rule — detail`; exits 1 when the portal refuses the file.
import { parseArgs } from "node:util";
import { runCustomersCli } from "./lib/customers-cli.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { "dry-run": { type: "boolean", default: false }, "full-sync": { type: "boolean", default: false } },
});

process.exitCode = await runCustomersCli(positionals, {
  dryRun: values["dry-run"] ?? false,
  fullSync: values["full-sync"] ?? false,
  env: process.env,
  root: process.cwd(),
  print: (line) => console.log(line),
  fail: (line) => console.error(line),
});
