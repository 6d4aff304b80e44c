// `npm start`: build the site, apply the D1 migrations to the local database, and serve site + API
// with `wrangler dev` on http://127.0.0.1:$PORT (default 8787) using the outbox email transport.
// No Cloudflare account and no network: everything runs in the local workerd.
//
// Options (after `npm start --`):
//   --no-build            serve the existing dist/ without rebuilding the site
//   --persist-to <dir>    keep local D1/queue state in <dir> instead of .wrangler/state
//   anything else         passed on to `wrangler dev` (e.g. --var RATE_LIMIT_IP_PER_MINUTE:1000)
import { type ChildProcess, spawn } from "node:child_process";
import { copyFileSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const wranglerBin = join(
  dirname(createRequire(import.meta.url).resolve("wrangler/package.json")),
  "bin",
  "wrangler.js",
);

const env: NodeJS.ProcessEnv = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_SEND_ERROR_REPORTS: "false",
  // Never open a browser. Commands get no stdin, so wrangler cannot stop to ask anything.
  BROWSER: "none",
};

function parse(argv: string[]) {
  let build = true;
  let persistTo: string | undefined;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--no-build") build = false;
    else if (arg === "--persist-to") persistTo = argv[++i];
    else if (arg.startsWith("--persist-to=")) persistTo = arg.slice("--persist-to=".length);
    else rest.push(arg);
  }
  return { build, persistTo, rest };
}

let current: ChildProcess | undefined;
let stopping = false;

function run(command: string, args: string[], what: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: root, env, stdio: ["ignore", "inherit", "inherit"] });
    current = child;
    child.on("error", (err) => reject(new Error(`${what} could not start: ${err.message}`)));
    child.on("exit", (code, signal) => {
      current = undefined;
      if (code === 0) resolvePromise();
      else reject(new Error(`${what} failed (${signal ? `signal ${signal}` : `exit code ${code}`})`));
    });
  });
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    stopping = true;
    if (current && current.exitCode === null) current.kill(signal);
    else process.exit(130);
  });
}

async function main(): Promise<number> {
  const { build, persistTo, rest } = parse(process.argv.slice(2));
  const port = Number(process.env.PORT ?? 8787);
  if (!Number.isInteger(port) || port <= 0 || port > 65_535)
    throw new Error(`PORT must be a port number, got ${process.env.PORT}`);
  const persist = persistTo ? ["--persist-to", persistTo] : [];

  // 1. Development secrets (ADMIN_TOKEN, RESEND_WEBHOOK_SECRET…) from the documented example.
  if (!existsSync(join(root, ".dev.vars"))) {
    copyFileSync(join(root, ".dev.vars.example"), join(root, ".dev.vars"));
    console.log("Created .dev.vars from .dev.vars.example (development secrets only).");
  }

  // 2. The static site, validated and built into dist/.
  if (build) {
    console.log("Building the site (npm run build)…");
    await run(process.platform === "win32" ? "npm.cmd" : "npm", ["run", "build"], "npm run build");
  } else if (!existsSync(join(root, "dist"))) {
    throw new Error("--no-build was given but dist/ does not exist; run `npm run build` first");
  }

  // 3. D1 migrations on the local database.
  console.log("Applying D1 migrations to the local database…");
  await run(process.execPath, [wranglerBin, "d1", "migrations", "apply", "DB", "--local", ...persist], "D1 migrations");

  // 4. Serve. Email links follow PORT via PUBLIC_BASE_URL.
  const base = `http://127.0.0.1:${port}`;
  console.log(`Serving site and API on ${base} (outbox email transport: ${base}/api/dev/outbox)`);
  const dev = spawn(
    process.execPath,
    [
      wranglerBin,
      "dev",
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--test-scheduled",
      "--show-interactive-dev-session=false",
      "--var",
      `PUBLIC_BASE_URL:${base}`,
      ...persist,
      ...rest,
    ],
    { cwd: root, env, stdio: ["ignore", "inherit", "inherit"] },
  );
  current = dev;
  return new Promise((resolvePromise) => {
    dev.on("exit", (code, signal) => resolvePromise(stopping ? 0 : (code ?? (signal ? 1 : 0))));
  });
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`npm start: ${(err as Error).message}`);
    process.exit(1);
  },
);
