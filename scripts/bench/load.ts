// Load benchmark against the real `npm start` on loopback: 10,000 unique sign-ups and 10,000 health checks with
// autocannon (bounded in count and in time), then proof that every accepted sign-up got exactly one confirmation
// email — counted in the local D1 outbox, because the development outbox API shows at most 500 emails.
// The rate limits are raised explicitly for the run (`--var`, as scripts/start.ts passes them to `wrangler dev`):
// every request comes from 127.0.0.1, which the per-IP limit would otherwise stop after 20 a minute.
// Run alone with `node scripts/bench/load.ts [--amount N]`, or through `npm run bench` (scripts/bench.ts).
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { freePort, stopServer as stop, waitForHealth } from "./server.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const wranglerBin = join(
  dirname(createRequire(import.meta.url).resolve("wrangler/package.json")),
  "bin",
  "wrangler.js",
);

/** The parts of autocannon's API used here (the package ships no types). */
interface AutocannonResult {
  requests: { total: number; average: number };
  latency: { p50: number; p99: number; average: number; max: number };
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  "2xx": number;
}
interface AutocannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  setupRequest?: (req: AutocannonRequest) => AutocannonRequest;
}
type Autocannon = (
  opts: {
    url: string;
    connections: number;
    amount: number;
    requests?: AutocannonRequest[];
    timeout?: number;
  },
  cb: (err: Error | null, result: AutocannonResult) => void,
) => { stop(): void };
const autocannon = createRequire(import.meta.url)("autocannon") as Autocannon;

export interface LoadBenchOptions {
  /** Sign-ups and health checks, each (upper bound). Default 10,000. */
  amount?: number;
  /** Seconds per phase (upper bound). Default 300. */
  maxSeconds?: number;
  connections?: number;
  /** Build the site first (default): the server serves what this checkout builds, never a stale dist/. */
  build?: boolean;
  log?: boolean;
}

export interface PhaseFigures {
  requests: number;
  ok: number;
  perSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  errors: number;
  seconds: number;
}

/** Flat figures, so `npm run bench` can print them as one table. */
export interface LoadBenchResult {
  healthRequests: number;
  healthPerSec: number;
  healthP50Ms: number;
  healthP99Ms: number;
  healthErrors: number;
  signupRequests: number;
  signupPerSec: number;
  signupP50Ms: number;
  signupP99Ms: number;
  signupErrors: number;
  /** signupPerSec / healthPerSec in the same run. */
  ratio: number;
  /** Sign-ups answered 202. */
  accepted: number;
  /** Addresses of this run that received a confirmation email (local D1 outbox). */
  confirmationsDistinct: number;
  /** Confirmation emails of this run in total: equals confirmationsDistinct when nobody got two. */
  confirmationsTotal: number;
  /** Addresses of this run that got more than one email. */
  duplicates: number;
  /** Subscribers of this run stored as pending. */
  pendingSubscribers: number;
  /** True when every accepted sign-up got exactly one confirmation email and nothing failed. */
  exactlyOnce: boolean;
  connections: number;
}

function run(opts: Parameters<Autocannon>[0], maxSeconds: number): Promise<AutocannonResult> {
  return new Promise((resolveRun, reject) => {
    const instance = autocannon(opts, (err, result) => {
      clearTimeout(timer);
      if (err) reject(err);
      else resolveRun(result);
    });
    // `amount` bounds the count; this bounds the time (autocannon ignores duration when amount is set).
    const timer = setTimeout(() => instance.stop(), maxSeconds * 1000);
  });
}

function queryLocalD1<T>(state: string, sql: string): T[] {
  const out = spawnSync(
    process.execPath,
    [wranglerBin, "d1", "execute", "DB", "--local", "--persist-to", state, "--json", "--command", sql],
    { cwd: root, encoding: "utf8", env: { ...process.env, WRANGLER_SEND_METRICS: "false" }, maxBuffer: 64 << 20 },
  );
  if (out.status !== 0) throw new Error(`wrangler d1 execute failed: ${out.stderr || out.stdout}`);
  const parsed = JSON.parse(out.stdout.slice(out.stdout.indexOf("["))) as { results: T[] }[];
  return parsed[0]?.results ?? [];
}

/** The newest outbox id, to see when the emails sent after the 202s (waitUntil) have all been written. */
async function newestOutboxId(base: string): Promise<number> {
  const res = await fetch(`${base}/api/dev/outbox?limit=1`);
  const emails = (await res.json()) as { id: number }[];
  return emails[0]?.id ?? 0;
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

function figures(r: AutocannonResult): PhaseFigures {
  return {
    requests: r.requests.total,
    ok: r["2xx"],
    perSec: round(r.duration > 0 ? r["2xx"] / r.duration : 0),
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    maxMs: r.latency.max,
    errors: r.errors + r.timeouts + r.non2xx,
    seconds: round(r.duration, 2),
  };
}

export async function benchLoad(options: LoadBenchOptions = {}): Promise<LoadBenchResult> {
  const amount = options.amount ?? 10_000;
  const maxSeconds = options.maxSeconds ?? 300;
  const connections = options.connections ?? 10;
  const log = options.log ?? true;
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const state = mkdtempSync(join(tmpdir(), "bench-load-"));
  const build = options.build ?? true;
  const say = (message: string) => log && console.log(message);

  say(`starting npm start on ${base}${build ? " (building the site first)" : ""}…`);
  const child = spawn(
    process.execPath,
    [
      join(root, "scripts", "start.ts"),
      ...(build ? [] : ["--no-build"]),
      "--persist-to",
      state,
      // Raised explicitly for the benchmark (limits are configuration, so a load benchmark can raise them: docs/architecture.md "Subscriptions").
      "--var",
      "RATE_LIMIT_IP_PER_MINUTE:100000000",
      "--var",
      "RATE_LIMIT_EMAIL_PER_HOUR:100000000",
    ],
    {
      cwd: root,
      detached: true,
      env: { ...process.env, PORT: String(port), WRANGLER_LOG: "warn" },
      stdio: ["ignore", "ignore", log ? "inherit" : "ignore"],
    },
  );
  const runId = Date.now().toString(36);
  const prefix = `load-${runId}-`;
  let signup: AutocannonResult;
  let health: AutocannonResult;
  try {
    await waitForHealth(base, child, 180_000);
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`${base}/api/health`);
      await res.body?.cancel();
    }

    say(`GET /api/health: up to ${amount} requests or ${maxSeconds} s, ${connections} connections…`);
    health = await run({ url: `${base}/api/health`, connections, amount, timeout: 10 }, maxSeconds);

    say(`POST /api/subscriptions: up to ${amount} unique sign-ups or ${maxSeconds} s, ${connections} connections…`);
    let n = 0;
    signup = await run(
      {
        url: base,
        connections,
        amount,
        timeout: 10,
        requests: [
          {
            method: "POST",
            path: "/api/subscriptions",
            headers: { "Content-Type": "application/json" },
            setupRequest: (req) => {
              n += 1;
              return { ...req, body: JSON.stringify({ email: `${prefix}${n}@bench.example`, locale: "en" }) };
            },
          },
        ],
      },
      maxSeconds,
    );

    // Confirmation emails are written after the 202 (waitUntil): wait until the outbox stops growing.
    say("waiting for the outbox to settle…");
    let last = -1;
    for (let stable = 0, waited = 0; stable < 4 && waited < 120; waited++) {
      const id = await newestOutboxId(base);
      stable = id === last ? stable + 1 : 0;
      last = id;
      await new Promise((r) => setTimeout(r, 500));
    }
  } catch (error) {
    await stop(child);
    rmSync(state, { recursive: true, force: true });
    throw error;
  }
  await stop(child);

  try {
    say("counting confirmation emails in the local D1 outbox…");
    const like = `${prefix}%`;
    const [emails] = queryLocalD1<{ total: number; distinct_to: number }>(
      state,
      `SELECT COUNT(*) AS total, COUNT(DISTINCT to_address) AS distinct_to FROM outbox WHERE to_address LIKE '${like}'`,
    );
    const [dups] = queryLocalD1<{ n: number }>(
      state,
      `SELECT COUNT(*) AS n FROM (SELECT to_address FROM outbox WHERE to_address LIKE '${like}' GROUP BY to_address HAVING COUNT(*) > 1)`,
    );
    const [pending] = queryLocalD1<{ n: number }>(
      state,
      `SELECT COUNT(*) AS n FROM subscribers WHERE email LIKE '${like}' AND status = 'pending'`,
    );
    const s = figures(signup);
    const h = figures(health);
    const result: LoadBenchResult = {
      healthRequests: h.requests,
      healthPerSec: h.perSec,
      healthP50Ms: h.p50Ms,
      healthP99Ms: h.p99Ms,
      healthErrors: h.errors,
      signupRequests: s.requests,
      signupPerSec: s.perSec,
      signupP50Ms: s.p50Ms,
      signupP99Ms: s.p99Ms,
      signupErrors: s.errors,
      ratio: round(h.perSec > 0 ? s.perSec / h.perSec : 0, 3),
      accepted: signup["2xx"],
      confirmationsDistinct: emails?.distinct_to ?? 0,
      confirmationsTotal: emails?.total ?? 0,
      duplicates: dups?.n ?? 0,
      pendingSubscribers: pending?.n ?? 0,
      exactlyOnce: false,
      connections,
    };
    result.exactlyOnce =
      s.errors === 0 &&
      result.duplicates === 0 &&
      result.confirmationsTotal === result.accepted &&
      result.confirmationsDistinct === result.accepted &&
      result.pendingSubscribers === result.accepted;
    if (log) {
      console.log(
        `health: ${h.ok}/${h.requests} in ${h.seconds} s = ${h.perSec}/s, p50 ${h.p50Ms} ms, p99 ${h.p99Ms} ms, errors ${h.errors}\n` +
          `sign-ups: ${s.ok}/${s.requests} in ${s.seconds} s = ${s.perSec}/s, p50 ${s.p50Ms} ms, p99 ${s.p99Ms} ms, errors ${s.errors}\n` +
          `confirmation emails: ${result.confirmationsTotal} to ${result.confirmationsDistinct} addresses for ${result.accepted} accepted sign-ups, ` +
          `${result.duplicates} duplicates, ${result.pendingSubscribers} pending subscribers → ${result.exactlyOnce ? "exactly once ✓" : "NOT exactly once ✗"}`,
      );
    }
    return result;
  } finally {
    rmSync(state, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: { amount: { type: "string" }, seconds: { type: "string" }, connections: { type: "string" } },
  });
  benchLoad({
    ...(values.amount ? { amount: Number(values.amount) } : {}),
    ...(values.seconds ? { maxSeconds: Number(values.seconds) } : {}),
    ...(values.connections ? { connections: Number(values.connections) } : {}),
  }).then(
    (result) => process.exit(result.exactlyOnce && result.healthErrors === 0 ? 0 : 1),
    (err: unknown) => {
      console.error(`bench load failed: ${(err as Error).message}`);
      process.exit(1);
    },
  );
}
