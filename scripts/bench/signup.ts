// Sign-up throughput against `npm start` on loopback, as a ratio to GET /api/health on the same
// server in the same run (issue 4 target: ratio ≥ 0.3). Bounded in both request count and time.
// Run alone with `node scripts/bench/signup.ts`, or through `npm run bench` (scripts/bench.ts).
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, waitForHealth } from "./server.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** The parts of autocannon's API used here (the package ships no types). */
interface AutocannonResult {
  requests: { total: number; average: number };
  latency: { p99: number; average: number };
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
interface AutocannonInstance {
  stop(): void;
}
type Autocannon = (
  opts: {
    url: string;
    connections: number;
    amount: number;
    duration?: number;
    requests?: AutocannonRequest[];
    method?: string;
    headers?: Record<string, string>;
    timeout?: number;
  },
  cb: (err: Error | null, result: AutocannonResult) => void,
) => AutocannonInstance;
const autocannon = createRequire(import.meta.url)("autocannon") as Autocannon;

export interface SignupBenchOptions {
  /** Requests per phase (upper bound). */
  amount?: number;
  /** Seconds per phase (upper bound). */
  maxSeconds?: number;
  connections?: number;
  /** Build the site first (default): the server serves what this checkout builds, never a stale dist/. */
  build?: boolean;
  /** Print progress and the figures. */
  log?: boolean;
}

export interface SignupBenchResult {
  signupsPerSec: number;
  signupP99Ms: number;
  healthPerSec: number;
  healthP99Ms: number;
  /** signupsPerSec / healthPerSec */
  ratio: number;
  /** Requests that failed or did not answer 2xx, over both phases. */
  errors: number;
  signups: number;
  healthChecks: number;
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

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolveStop) => {
    if (child.exitCode !== null) return resolveStop();
    const kill = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.once("exit", () => {
      clearTimeout(kill);
      resolveStop();
    });
    child.kill("SIGINT");
  });
}

const perSec = (r: AutocannonResult) => (r.duration > 0 ? r["2xx"] / r.duration : 0);
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

export async function benchSignup(options: SignupBenchOptions = {}): Promise<SignupBenchResult> {
  const amount = options.amount ?? 3000;
  const maxSeconds = options.maxSeconds ?? 15;
  const connections = options.connections ?? 10;
  const log = options.log ?? true;
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const state = mkdtempSync(join(tmpdir(), "bench-signup-"));
  const build = options.build ?? true;

  const args = [
    join(root, "scripts", "start.ts"),
    ...(build ? [] : ["--no-build"]),
    "--persist-to",
    state,
    // Raised explicitly for the benchmark: every request comes from 127.0.0.1.
    "--var",
    "RATE_LIMIT_IP_PER_MINUTE:100000000",
    "--var",
    "RATE_LIMIT_EMAIL_PER_HOUR:100000000",
  ];
  if (log) console.log(`starting the server on ${base}${build ? " (building the site first)" : ""}…`);
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, PORT: String(port), WRANGLER_LOG: "warn" },
    stdio: ["ignore", "ignore", log ? "inherit" : "ignore"],
  });
  try {
    await waitForHealth(base, child, 180_000);
    // Warm-up: compile paths, open the database.
    for (let i = 0; i < 20; i++) {
      await fetch(`${base}/api/health`);
      await fetch(`${base}/api/subscriptions`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ email: `warmup-${i}@bench.example` }),
      });
    }

    if (log) console.log(`GET /api/health: up to ${amount} requests or ${maxSeconds} s, ${connections} connections…`);
    const health = await run({ url: `${base}/api/health`, connections, amount, timeout: 10 }, maxSeconds);

    if (log) console.log(`POST /api/subscriptions: up to ${amount} unique sign-ups or ${maxSeconds} s…`);
    let n = 0;
    const runId = Date.now().toString(36);
    const signup = await run(
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
              return { ...req, body: JSON.stringify({ email: `bench-${runId}-${n}@bench.example`, locale: "en" }) };
            },
          },
        ],
      },
      maxSeconds,
    );

    const result: SignupBenchResult = {
      signupsPerSec: round(perSec(signup)),
      signupP99Ms: signup.latency.p99,
      healthPerSec: round(perSec(health)),
      healthP99Ms: health.latency.p99,
      ratio: round(perSec(health) > 0 ? perSec(signup) / perSec(health) : 0, 3),
      errors: signup.errors + signup.timeouts + signup.non2xx + health.errors + health.timeouts + health.non2xx,
      signups: signup["2xx"],
      healthChecks: health["2xx"],
      connections,
    };
    if (log) {
      console.log(
        `sign-ups: ${result.signupsPerSec}/s (p99 ${result.signupP99Ms} ms) · health: ${result.healthPerSec}/s ` +
          `(p99 ${result.healthP99Ms} ms) · ratio ${result.ratio} (target ≥ 0.3) · errors ${result.errors}`,
      );
    }
    return result;
  } finally {
    await stop(child);
    rmSync(state, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  benchSignup().then(
    (result) => {
      console.table(result);
      process.exit(result.errors > 0 ? 1 : 0);
    },
    (err: unknown) => {
      console.error(`bench signup failed: ${(err as Error).message}`);
      process.exit(1);
    },
  );
}
