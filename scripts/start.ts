// `npm start`: build the site, apply the D1 migrations to the local database, and serve site + API
// with `wrangler dev` on http://127.0.0.1:$PORT (default 8787) using the outbox email transport.
// No Cloudflare account and no network: everything runs in the local workerd.
//
// Options (after `npm start --`):
//   --no-build            serve the existing dist/ without rebuilding the site
//   --persist-to <dir>    keep local D1/queue state in <dir> instead of .wrangler/state
//   anything else         passed on to `wrangler dev` (e.g. --var RATE_LIMIT_IP_PER_MINUTE:1000, --log-level info)
//
// Process group: wrangler starts workerd, and workerd outlives a wrangler that is killed alone, holding the port so
// the next `npm start` fails with "Address already in use". So the server runs in a process group of its own (this
// script again, as its leader) and every way of stopping ends the whole group: Ctrl-C, SIGTERM, SIGHUP, the server
// exiting by itself, and the death of this process (even by SIGKILL), which the leader notices as the end of its
// stdin. Windows has no process groups; there the server runs as a plain child.
import { type ChildProcess, spawn } from "node:child_process";
import { copyFileSync, existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { toolEnv } from "./lib/tool-env.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const self = fileURLToPath(import.meta.url);
const wranglerBin = join(
  dirname(createRequire(import.meta.url).resolve("wrangler/package.json")),
  "bin",
  "wrangler.js",
);

/** Marks the copy of this script that leads the server's process group. */
const LEADER = "--process-group-leader";
/** How long the group gets to stop after SIGTERM/SIGINT before it is killed. */
const STOP_GRACE_MS = 5_000;

// Never open a browser; commands get no stdin, so wrangler cannot stop to ask anything.
const env = toolEnv({ BROWSER: "none" });

type Signal = "SIGINT" | "SIGTERM" | "SIGHUP";
const SIGNALS: Signal[] = ["SIGINT", "SIGTERM", "SIGHUP"];

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // The group is already empty.
  }
}

/** This process, started by npm: runs the leader in a new process group and ends that group however it stops. */
function outside(): void {
  const leader = spawn(process.execPath, [self, LEADER, ...process.argv.slice(2)], {
    cwd: root,
    env,
    detached: true,
    stdio: ["pipe", "inherit", "inherit"],
  });
  const pgid = leader.pid as number;
  for (const signal of SIGNALS) process.on(signal, () => killGroup(pgid, signal === "SIGINT" ? "SIGINT" : "SIGTERM"));
  leader.on("exit", (code, signal) => {
    // Whatever the leader left behind (a workerd whose wrangler died) goes with it.
    killGroup(pgid, "SIGKILL");
    process.exit(code ?? (signal ? 1 : 0));
  });
}

let current: ChildProcess | undefined;
let stopping = false;

/** Stops the server: the whole group when this process leads one, else the current child. */
function stop(signal: NodeJS.Signals): void {
  if (stopping) return;
  stopping = true;
  const inGroup = process.argv.includes(LEADER);
  if (inGroup) killGroup(process.pid, signal);
  else current?.kill(signal);
  if (!current) process.exit(130);
  // A server that ignores the signal is killed; in a group, that takes this process too, which is the point.
  setTimeout(() => (inGroup ? killGroup(process.pid, "SIGKILL") : current?.kill("SIGKILL")), STOP_GRACE_MS).unref();
}

function parse(argv: string[]) {
  let build = true;
  let persistTo: string | undefined;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === LEADER) continue;
    if (arg === "--no-build") build = false;
    else if (arg === "--persist-to") persistTo = argv[++i];
    else if (arg.startsWith("--persist-to=")) persistTo = arg.slice("--persist-to=".length);
    else rest.push(arg);
  }
  return { build, persistTo, rest };
}

/** Runs a step with its output held back: a person sees it only when the step fails. */
function step(command: string, args: string[], what: string, extraEnv: Record<string, string> = {}): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: root, env: { ...env, ...extraEnv }, stdio: ["ignore", "pipe", "pipe"] });
    current = child;
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk));
    child.on("error", (err) => reject(new Error(`${what} could not start: ${err.message}`)));
    child.on("exit", (code, signal) => {
      current = undefined;
      if (code === 0) resolvePromise(output);
      else if (stopping) reject(new Error("stopped"));
      else
        reject(new Error(`${what} failed (${signal ? `signal ${signal}` : `exit code ${code}`}):\n${output.trim()}`));
    });
  });
}

/** The names a dotenv file sets. */
function devVarNames(file: string): string[] {
  return [...readFileSync(join(root, file), "utf8").matchAll(/^([A-Z][A-Z0-9_]*)\s*=/gm)].map((m) => m[1] as string);
}

/** A value from .dev.vars (KEY=value lines, as wrangler reads them). */
function devVar(name: string): string | undefined {
  const match = new RegExp(`^${name}\\s*=\\s*"?([^"\\n]*)"?\\s*$`, "m").exec(
    readFileSync(join(root, ".dev.vars"), "utf8"),
  );
  return match?.[1]?.trim();
}

async function waitForHealth(base: string, server: ChildProcess): Promise<boolean> {
  while (server.exitCode === null && server.signalCode === null && !stopping) {
    try {
      const res = await fetch(`${base}/api/health`, { signal: AbortSignal.timeout(2_000) });
      await res.body?.cancel();
      if (res.ok) return true;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

async function serve(): Promise<number> {
  for (const signal of SIGNALS) process.on(signal, () => stop(signal === "SIGINT" ? "SIGINT" : "SIGTERM"));
  // The process that started this group is gone (even killed with SIGKILL): its end of stdin closes.
  if (process.argv.includes(LEADER)) {
    process.stdin.on("end", () => stop("SIGTERM"));
    process.stdin.resume();
  }

  const { build, persistTo, rest } = parse(process.argv.slice(2));
  const port = Number(process.env.PORT ?? 8787);
  if (!Number.isInteger(port) || port <= 0 || port > 65_535)
    throw new Error(`PORT must be a port number, got ${process.env.PORT}`);
  const persist = persistTo ? ["--persist-to", persistTo] : [];
  const base = `http://127.0.0.1:${port}`;

  // 1. Development secrets (ADMIN_TOKEN, RESEND_WEBHOOK_SECRET…) from the documented example.
  if (!existsSync(join(root, ".dev.vars"))) {
    copyFileSync(join(root, ".dev.vars.example"), join(root, ".dev.vars"));
    console.log("Created .dev.vars from .dev.vars.example (development secrets only).");
  }
  const missing = devVarNames(".dev.vars.example").filter((name) => !devVarNames(".dev.vars").includes(name));
  if (missing.length > 0)
    console.warn(
      `.dev.vars lacks ${missing.join(", ")} (added to .dev.vars.example since it was made): copy the line(s) over, or delete .dev.vars so that npm start makes it afresh.`,
    );

  // 2. The static site, validated and built into dist/, its own address following PORT like the emails' links.
  if (build) {
    console.log("Building the site…");
    const output = await step(process.execPath, [join(root, "scripts", "build.ts")], "npm run build", {
      PUBLIC_BASE_URL: base,
    });
    const pages = /(\d+) page\(s\) built/.exec(output)?.[1];
    console.log(`Built ${pages ?? "the"} pages into dist/.`);
  } else if (!existsSync(join(root, "dist"))) {
    throw new Error("--no-build was given but dist/ does not exist; run `npm run build` first");
  }

  // 3. D1 migrations on the local database.
  await step(
    process.execPath,
    [wranglerBin, "d1", "migrations", "apply", "DB", "--local", ...persist],
    "D1 migrations",
  );
  console.log(`Local D1 database is up to date (${persistTo ?? ".wrangler/state"}).`);

  // 4. Serve. Email links follow PORT via PUBLIC_BASE_URL. Wrangler's own output is held to warnings and errors
  // (its bindings table and request log come back with `--log-level info`). Every other port it opens, the
  // inspector included, is picked by the OS when it binds (port 0), so servers started side by side never race
  // for one; `--inspector-port 9229` asks for a fixed one.
  const given = (flag: string) => rest.some((a) => a === flag || a.startsWith(`${flag}=`));
  const server = spawn(
    process.execPath,
    [
      wranglerBin,
      "dev",
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      ...(given("--inspector-port") ? [] : ["--inspector-port", "0"]),
      ...(given("--log-level") ? [] : ["--log-level", "warn"]),
      "--test-scheduled",
      "--show-interactive-dev-session=false",
      "--var",
      `PUBLIC_BASE_URL:${base}`,
      // Webhook endpoints on this machine (http://127.0.0.1:<port>) may be registered; never in production.
      "--var",
      "WEBHOOK_ALLOW_LOCAL_HTTP:1",
      ...persist,
      ...rest,
    ],
    { cwd: root, env, stdio: ["ignore", "inherit", "inherit"] },
  );
  current = server;
  const exited = new Promise<number>((resolvePromise) => {
    server.on("exit", (code, signal) => resolvePromise(stopping ? 0 : (code ?? (signal ? 1 : 0))));
  });
  if (await waitForHealth(base, server)) {
    console.log(
      [
        "",
        `  Portal:       ${base}/`,
        `  Outbox:       ${base}/api/dev/outbox   (emails are kept here, never sent)`,
        `  Admin token:  ${devVar("ADMIN_TOKEN") ?? "(not set in .dev.vars)"}   (development only, from .dev.vars)`,
        "",
        "  Ctrl-C stops the server.",
        "",
      ].join("\n"),
    );
  }
  return exited;
}

if (process.platform !== "win32" && !process.argv.includes(LEADER)) {
  outside();
} else {
  serve().then(
    (code) => process.exit(code),
    (err: unknown) => {
      if (!stopping) console.error(`npm start: ${(err as Error).message}`);
      process.exit(stopping ? 130 : 1);
    },
  );
}
