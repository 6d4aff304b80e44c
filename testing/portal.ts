// Starts the real portal (`npm start`: build, local D1 migrations, `wrangler dev` with the outbox transport) for the
// browser tests and the load benchmark. Each run works in a fresh copy of the checkout, so its dist/, its local D1 and
// any content it edits never touch the working tree or another engineer's running server.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";

export const REPO_ROOT = resolve(import.meta.dirname, "..");

/** Top-level entries that a copy does not need (node_modules is linked, build output and local state are made fresh). */
const SKIP = new Set([
  ".git",
  // The developer's own secrets may predate a key the example added: each copy makes its .dev.vars afresh.
  ".dev.vars",
  "node_modules",
  "dist",
  ".wrangler",
  ".astro",
  "bench",
  "tests",
  "test-results",
  "preview-notice",
]);

/** A fresh copy of the checkout in a temporary folder, with node_modules linked rather than copied. */
export function copyCheckout(prefix = "portal-e2e-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cpSync(REPO_ROOT, dir, {
    recursive: true,
    filter: (src) => {
      const rel = relative(REPO_ROOT, src);
      const top = rel.split(/[\\/]/)[0] ?? "";
      return rel === "" || !SKIP.has(top);
    },
  });
  symlinkSync(join(REPO_ROOT, "node_modules"), join(dir, "node_modules"), "dir");
  return dir;
}

/** A free TCP port on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === "object") resolvePort(address.port);
        else reject(new Error("no port"));
      });
    });
  });
}

export interface Portal {
  url: string;
  port: number;
  dir: string;
  /** The `node scripts/start.ts` process (its server runs in a process group of its own). */
  pid: number;
  /** ADMIN_TOKEN from the copy's .dev.vars (created from .dev.vars.example by `npm start`). */
  adminToken: string;
  /** The last part of the server's output, for error messages. */
  output(): string;
  stop(): Promise<void>;
  /** SIGKILL to the whole process group at once (npm start, wrangler, workerd): a crash, not a shutdown. */
  kill(): Promise<void>;
}

export interface StartOptions {
  dir: string;
  port?: number;
  /** Extra environment for `npm start` (e.g. raised rate limits for the benchmark). */
  env?: Record<string, string>;
  /** Extra arguments for scripts/start.ts (passed on after `--`). */
  args?: string[];
  timeoutMs?: number;
}

const OUTPUT_KEPT = 20_000;

/** The process group `npm start` (pid `parent`) runs the server in: the group led by one of its children. */
export function serverGroup(parent: number): number | undefined {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const [, ppid, pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(ppid) === parent && Number(pgrp) === Number(entry)) return Number(entry);
    } catch {
      // The process ended while we looked.
    }
  }
  return undefined;
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is already gone.
  }
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) done();
    else child.once("exit", () => done());
  });
}

function readAdminToken(dir: string): string {
  for (const file of [".dev.vars", ".dev.vars.example"]) {
    const path = join(dir, file);
    if (!existsSync(path)) continue;
    const match = /^ADMIN_TOKEN\s*=\s*"?([^"\n]+)"?\s*$/m.exec(readFileSync(path, "utf8"));
    if (match?.[1]) return match[1].trim();
  }
  return "";
}

/** Runs `node scripts/start.ts` in `dir` on a loopback port and waits until GET /api/health answers 200. */
export async function startPortal(options: StartOptions): Promise<Portal> {
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  let log = "";
  const child = spawn(process.execPath, ["scripts/start.ts", ...(options.args ?? [])], {
    cwd: options.dir,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      PATH: `${join(options.dir, "node_modules/.bin")}:${process.env.PATH ?? ""}`,
      PORT: String(port),
      ASTRO_TELEMETRY_DISABLED: "1",
      // node_modules is linked from the checkout, and with it Astro's default cache: copies that build at the same
      // time each keep their own.
      ASTRO_CACHE_DIR: join(options.dir, ".astro-cache"),
      WRANGLER_SEND_METRICS: "false",
      NO_COLOR: "1",
      FORCE_COLOR: "0",
      ...options.env,
    },
  });
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-OUTPUT_KEPT);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    killGroup(child, "SIGTERM");
    const timer = setTimeout(() => killGroup(child, "SIGKILL"), 8_000);
    await exited(child);
    clearTimeout(timer);
    // workerd may outlive its parent: make sure nothing of the group is left.
    killGroup(child, "SIGKILL");
  };

  const deadline = Date.now() + (options.timeoutMs ?? 180_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`npm start exited (${child.exitCode ?? child.signalCode}) before serving:\n${log}`);
    }
    try {
      const res = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(2_000) });
      await res.body?.cancel();
      if (res.status === 200) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`npm start did not answer GET /api/health with 200 within the time limit:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  // A hard stop of the server itself: `npm start` runs it in a process group of its own (README "Run it"), so the
  // SIGKILL goes to that group first, then to npm start's, before either can shut anything down in order.
  const kill = async () => {
    if (child.pid !== undefined) {
      const server = serverGroup(child.pid);
      if (server !== undefined) {
        try {
          process.kill(-server, "SIGKILL");
        } catch {
          // The group is already gone.
        }
      }
    }
    killGroup(child, "SIGKILL");
    await exited(child);
  };
  return {
    url,
    port,
    dir: options.dir,
    pid: child.pid as number,
    adminToken: readAdminToken(options.dir),
    output: () => log,
    stop,
    kill,
  };
}

/** One SQL query on the local D1 database `npm start -- --persist-to <state>` keeps in `dir` (server stopped). */
export function queryLocalD1<T>(dir: string, state: string, sql: string): T[] {
  const wrangler = join(dir, "node_modules/wrangler/bin/wrangler.js");
  const out = spawnSync(
    process.execPath,
    [wrangler, "d1", "execute", "DB", "--local", "--persist-to", state, "--json", "--command", sql],
    { cwd: dir, encoding: "utf8", env: { ...process.env, WRANGLER_SEND_METRICS: "false" }, maxBuffer: 64 << 20 },
  );
  if (out.status !== 0) throw new Error(`wrangler d1 execute failed: ${out.stderr || out.stdout}`);
  const parsed = JSON.parse(out.stdout.slice(out.stdout.indexOf("["))) as { results: T[] }[];
  return parsed[0]?.results ?? [];
}

export function removeCopy(dir: string): void {
  if (dir.startsWith(tmpdir())) rmSync(dir, { recursive: true, force: true });
}

/** An email of the development outbox, as GET /api/dev/outbox lists it (worker/db/outbox.ts). */
export interface OutboxEmail {
  id: number;
  to: string;
  subject: string;
  html: string;
  text: string;
  headers: Record<string, string>;
  /** The provider tags it was sent with (a notice's name its delivery). */
  tags: Record<string, string>;
  createdAt: string;
}

/** The development outbox (EMAIL_TRANSPORT=outbox), newest first. */
export async function outbox(base: string, query: { to?: string; limit?: number } = {}): Promise<OutboxEmail[]> {
  const params = new URLSearchParams();
  if (query.to) params.set("to", query.to);
  if (query.limit) params.set("limit", String(query.limit));
  const res = await fetch(`${base}/api/dev/outbox?${params}`);
  if (!res.ok) throw new Error(`GET /api/dev/outbox answered ${res.status}: ${await res.text()}`);
  const body = (await res.json()) as OutboxEmail[] | { emails?: OutboxEmail[]; items?: OutboxEmail[] };
  return Array.isArray(body) ? body : (body.emails ?? body.items ?? []);
}

/** Waits for an email to `to` that matches `predicate` (the outbox is written asynchronously after a 202). */
export async function waitForEmail(
  base: string,
  to: string,
  predicate: (email: OutboxEmail) => boolean = () => true,
  timeoutMs = 30_000,
): Promise<OutboxEmail> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = (await outbox(base, { to })).find(predicate);
    if (found) return found;
    if (Date.now() > deadline) {
      const seen = (await outbox(base, { to })).map((e) => e.subject);
      throw new Error(`no matching email to ${to} within ${timeoutMs} ms; the outbox has: ${JSON.stringify(seen)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Every absolute link in an email's HTML. */
export function emailLinks(email: Pick<OutboxEmail, "html">): string[] {
  return [...email.html.matchAll(/href="([^"]+)"/g)].map((m) => (m[1] ?? "").replace(/&amp;/g, "&"));
}
