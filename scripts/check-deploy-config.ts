// `npm run check-deploy`: the deploy workflow runs it before `wrangler deploy`, with the values that deploy passes.
// It refuses the outbox email transport: that transport stores every email, manage tokens included, in D1, and it is
// the wrangler.toml default, so a deploy that forgets EMAIL_TRANSPORT would use it. It also refuses a PUBLIC_BASE_URL
// that is not a public https origin (email links point there; a loopback one would also open the development outbox,
// worker/routes/dev.ts), and WEBHOOK_ALLOW_LOCAL_HTTP, set either for the deploy or in wrangler.toml's [vars]: it admits
// webhook endpoints on http://127.0.0.1 and is for `npm start` and the tests only (README "Webhooks").
// Exit code 1 with one line per problem; 0 when the deploy may go ahead.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { isLoopbackUrl } from "../domain/urls.ts";

const wranglerToml = join(dirname(fileURLToPath(import.meta.url)), "..", "wrangler.toml");

/** The keys wrangler.toml's top-level [vars] table sets (bare `KEY = …` lines up to the next table; comments ignored). */
function varsSetIn(toml: string): string[] {
  const keys: string[] = [];
  let inVars = false;
  for (const line of toml.split("\n")) {
    const trimmed = line.trim();
    if (trimmed.startsWith("[")) inVars = trimmed === "[vars]";
    else if (inVars) {
      const key = /^"?([A-Za-z0-9_-]+)"?\s*=/.exec(trimmed)?.[1];
      if (key) keys.push(key);
    }
  }
  return keys;
}

function problems(env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  const transport = env.EMAIL_TRANSPORT;
  if (transport !== "resend") {
    out.push(
      transport
        ? `EMAIL_TRANSPORT is "${transport}": a deploy must send with "resend" (the outbox would publish every token)`
        : 'EMAIL_TRANSPORT is not set, so wrangler.toml\'s "outbox" would apply: pass --var EMAIL_TRANSPORT:resend',
    );
  }
  const base = env.PUBLIC_BASE_URL ?? "";
  let https = false;
  try {
    https = new URL(base).protocol === "https:";
  } catch {
    // reported below
  }
  if (!https || isLoopbackUrl(base)) {
    out.push(`PUBLIC_BASE_URL must be the portal's public https:// origin (got "${base}")`);
  }
  if (env.WEBHOOK_ALLOW_LOCAL_HTTP) {
    out.push("WEBHOOK_ALLOW_LOCAL_HTTP is set: it admits webhook endpoints on http://127.0.0.1 (development only)");
  }
  if (varsSetIn(readFileSync(env.WRANGLER_TOML ?? wranglerToml, "utf8")).includes("WEBHOOK_ALLOW_LOCAL_HTTP")) {
    out.push("wrangler.toml [vars] sets WEBHOOK_ALLOW_LOCAL_HTTP: remove it, it is for development only");
  }
  return out;
}

const found = problems(process.env);
for (const p of found) {
  console.error(process.env.GITHUB_ACTIONS === "true" ? `::error title=Deploy configuration::${p}` : p);
}
if (found.length > 0) process.exit(1);
console.log(
  "Deploy configuration: EMAIL_TRANSPORT=resend, PUBLIC_BASE_URL is public https, WEBHOOK_ALLOW_LOCAL_HTTP unset.",
);
