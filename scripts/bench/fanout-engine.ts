// Fan-out benchmark on the real engine (issue 17): the worker's own publish and queue consumer, its D1 delivery store
// and its shared send budget, bundled like a deploy and run in workerd through Miniflare's API, with local D1 (on disk)
// and local Queues configured from wrangler.toml, against the fake Resend in its own process (5 % of calls answered 429
// or 500, or accepted with the answer lost). Recipients are seeded with direct D1 inserts (thousands of rows per
// statement), with what confirming a subscription writes besides the subscriber: the manage token every notice to them
// carries (worker/notices/engine/tokens.ts) and its hash on the subscriber, so the fan-out writes no token, as in
// production. Then one change is published and the queue drains. The bench worker (scripts/bench/engine/worker.ts)
// adds up `meta.rows_read` / `meta.rows_written` of every statement the publish and the consumer run (`BENCH_SQL=1`
// prints them per statement; `BENCH_GAPS=1` prints the start, the end and every pause between calls longer than a slot).
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions, unstable_splitSqlQuery } from "wrangler";
import { resendAccount } from "../../testing/resend-control.ts";
import type { RecordedRequest } from "../../testing/resend-server.ts";
import { startFakeResendProcess } from "../../testing/resend-server.ts";
import { sendIntervalMs } from "../../worker/notices/engine/rate.ts";
import { noticeManageToken } from "../../worker/notices/engine/tokens.ts";
import { benchFanout } from "./fanout.ts";
import { benchDocuments, faultScript, faultsMet } from "./fanout-setup.ts";

export interface EngineRunOptions {
  /** Confirmed self-subscribers, or customers' notice contacts (`contacts: true`). */
  recipients: number;
  contacts?: boolean;
  rps: number;
  faultRate?: number;
  seed?: number;
  log?: (line: string) => void;
}

export interface EngineRun {
  recipients: number;
  kind: "subscribers" | "contacts";
  rps: number;
  emailsPerSecond: number;
  ceilingPerSecond: number;
  ratio: number;
  overLimitCalls: number;
  duplicates: number;
  missing: number;
  d1RowsWrittenPerEmail: number;
  d1RowsReadPerEmail: number;
  /** The same, counting the publish (plan, chunks, contacts' rows) too. */
  d1RowsWrittenPerEmailWithPublish: number;
  d1RowsReadPerEmailWithPublish: number;
  queueMessagesPerEmail: number;
  /**
   * The provider's view of the budget, from the fake's arrival clock: the shortest time any rps + 1 consecutive
   * calls took to arrive (over 1000 ms: no 1-second window held more than rps calls), and how much of the fan-out
   * passed with no call leaving although a slot was free (gaps between arrivals beyond the send interval).
   */
  tightestWindowMs: number;
  idleSlotSeconds: number;
  /** Send slots booked but given up because the consumer woke too late for them (engine/rate.ts SLOT_LATENESS_MS). */
  slotsGivenUp: number;
  peakRssMb: number;
  /**
   * The JS heap of the busiest isolate (the consumer's) left live after each full garbage collection during the
   * fan-out, from workerd's `--trace-gc`: what the consumer holds, without the garbage V8 has not collected yet and
   * without local D1 and the queue broker, which share the process.
   */
  liveHeapMb: { afterFirstGc: number; max: number; last: number; fullGcs: number; longestPauseMs: number };
  rssAtEndMb: string;
  /** The local D1 database on disk at the end (SQLite file and its journal). */
  d1FileMb: number;
  publishPeakRssMb: number;
  requests: number;
  faults: string;
  fanoutSeconds: number;
  publishSeconds: number;
  wallSeconds: number;
}

const ROOT = process.cwd();

/** What the bench worker adds up per D1 binding (scripts/bench/engine/worker.ts `Tally`). */
interface Tally {
  statements: number;
  rowsRead: number;
  rowsWritten: number;
  bySql: Record<string, [number, number, number]>;
}

/** The bench worker bundled the way wrangler bundles the worker (ES module, YAML as text, node: and cloudflare: left to workerd). */
async function bundle(outdir: string): Promise<string> {
  await build({
    entryPoints: [join(ROOT, "scripts/bench/engine/worker.ts")],
    outfile: join(outdir, "worker.js"),
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2023",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["module", "main"],
    external: ["node:*", "cloudflare:*"],
    loader: { ".yaml": "text" },
    logLevel: "error",
  });
  return join(outdir, "worker.js");
}

/** KEY=value lines of .dev.vars.example: the development secrets the worker needs (NOTICE_TOKEN_KEY…). */
function devSecrets(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(join(ROOT, ".dev.vars.example"), "utf8").split("\n")) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m?.[1] && m[2] !== undefined) out[m[1]] = m[2].replace(/^'(.*)'$/, "$1");
  }
  return out;
}

/** The workerd process Miniflare started (a child of this process). */
function workerdPid(): number {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8").trim();
      const [, comm, rest] = /^\d+ \((.*)\) (.*)$/.exec(stat) ?? [];
      const ppid = Number(rest?.split(" ")[1]);
      if (comm === "workerd" && ppid === process.pid) return Number(entry);
    } catch {
      // The process ended meanwhile.
    }
  }
  throw new Error("workerd process not found");
}

const statusMb = (pid: number, field: string) =>
  Math.round(
    Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024,
  );
const peakRssMb = (pid: number) => statusMb(pid, "VmHWM");
/** Linux: writing 5 to clear_refs resets the peak RSS (VmHWM) to the current RSS. */
const resetPeak = (pid: number) => {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
  } catch {
    // Not permitted: the peak then covers the whole run.
  }
};

function dirBytes(path: string): number {
  let total = 0;
  for (const entry of readdirSync(path, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += statSync(join(entry.parentPath, entry.name)).size;
  }
  return total;
}

const REGIONS = [[], ["uk"], ["de"], ["ca"], ["eea"], ["ch"], ["uk", "de"]];
const ROWS_PER_STATEMENT = 5_000;

async function seedStatements(options: EngineRunOptions, noticeKey: string): Promise<[string, unknown[]][]> {
  const now = "2026-11-01T10:00:00.000Z";
  const statements: [string, unknown[]][] = [];
  if (!options.contacts) {
    for (let from = 0; from < options.recipients; from += ROWS_PER_STATEMENT) {
      const rows = await Promise.all(
        Array.from({ length: Math.min(ROWS_PER_STATEMENT, options.recipients - from) }, async (_, k) => {
          const i = from + k;
          const id = `s${String(i).padStart(6, "0")}`;
          return [
            id,
            `subscriber${i}@bench.example`,
            i % 2 === 0 ? "da" : "en",
            JSON.stringify(REGIONS[i % REGIONS.length]),
            (await noticeManageToken(noticeKey, id)).hash,
          ];
        }),
      );
      statements.push([
        "INSERT INTO subscribers (id, email, locale, topics, regions, status, created_at, updated_at, confirmed_at, " +
          'notice_token_hash) SELECT value ->> 0, value ->> 1, value ->> 2, \'["subprocessors","dpa"]\', ' +
          "value ->> 3, 'confirmed', ?2, ?2, ?2, value ->> 4 FROM json_each(?1)",
        [JSON.stringify(rows), now],
      ]);
      statements.push([
        "INSERT INTO subscription_tokens (token_hash, subscriber_id, kind, created_at) " +
          "SELECT value ->> 4, value ->> 0, 'manage', ?2 FROM json_each(?1)",
        [JSON.stringify(rows), now],
      ]);
    }
    return statements;
  }
  // Customers under contract in every region and both contract cohorts, ten notice contacts each.
  const perCustomer = 10;
  const customers = Math.ceil(options.recipients / perCustomer);
  const regions = ["uk", "de", "eea", "ca", "ch"];
  const customerRows = Array.from({ length: customers }, (_, c) => [
    `CUST-${String(c).padStart(5, "0")}`,
    regions[c % regions.length],
    c % 2 === 0 ? "2022-03-01" : "2024-03-01",
    c % 2 === 0 ? "da" : "en",
  ]);
  statements.push([
    "INSERT INTO customers (external_id, name, region, contract_date, locale, created_at, updated_at) " +
      "SELECT value ->> 0, 'Customer ' || (value ->> 0), value ->> 1, value ->> 2, value ->> 3, ?2, ?2 FROM json_each(?1)",
    [JSON.stringify(customerRows), now],
  ]);
  for (let from = 0; from < options.recipients; from += ROWS_PER_STATEMENT) {
    const rows = Array.from({ length: Math.min(ROWS_PER_STATEMENT, options.recipients - from) }, (_, k) => {
      const i = from + k;
      const c = Math.floor(i / perCustomer);
      return [
        `contact-${String(i).padStart(6, "0")}`,
        `CUST-${String(c).padStart(5, "0")}`,
        `notice${i}@cust${c}.example`,
      ];
    });
    statements.push([
      "INSERT INTO customer_contacts (id, customer_id, email, status, created_at, updated_at) " +
        "SELECT value ->> 0, value ->> 1, value ->> 2, 'active', ?2, ?2 FROM json_each(?1)",
      [JSON.stringify(rows), now],
    ]);
  }
  return statements;
}

/** See EngineRun.tightestWindowMs and idleSlotSeconds. */
export function arrivalFigures(requests: readonly RecordedRequest[], rps: number) {
  const at = requests.map((r) => r.arrivedAtMs).sort((a, b) => a - b);
  let tightest = Number.POSITIVE_INFINITY;
  for (let i = 0; i + rps < at.length; i++) tightest = Math.min(tightest, (at[i + rps] ?? 0) - (at[i] ?? 0));
  const interval = sendIntervalMs(rps);
  let idle = 0;
  for (let i = 1; i < at.length; i++) idle += Math.max(0, (at[i] ?? 0) - (at[i - 1] ?? 0) - interval);
  if (process.env.BENCH_GAPS) {
    const gaps = at.slice(1).map((t, i) => ({ at: Math.round(t - (at[0] ?? 0)), gap: Math.round(t - (at[i] ?? 0)) }));
    console.log(JSON.stringify(gaps.filter((g) => g.gap > interval + 5)));
  }
  return {
    tightestWindowMs: Number.isFinite(tightest) ? Math.round(tightest * 10) / 10 : 0,
    idleSlotSeconds: Math.round(idle / 100) / 10,
  };
}

/** Full collections seen in workerd's `--trace-gc` lines, per isolate. */
function gcTrace() {
  const byIsolate = new Map<string, { after: number; pauseMs: number }[]>();
  return {
    line(message: string): boolean {
      const m =
        /\[\d+:(0x[0-9a-f]+)\]\s+\d+ ms: Mark-Compact [\d.]+ \([\d.]+\) -> ([\d.]+) \([\d.]+\) MB, (?:pooled: [\d.]+ MB, )?([\d.]+) \//.exec(
          message,
        );
      if (!m?.[1]) return /ms: (Scavenge|Mark-Compact|Minor)/.test(message);
      const list = byIsolate.get(m[1]) ?? [];
      list.push({ after: Number(m[2]), pauseMs: Number(m[3]) });
      byIsolate.set(m[1], list);
      return true;
    },
    clear: () => byIsolate.clear(),
    busiest(): EngineRun["liveHeapMb"] {
      const list = [...byIsolate.values()].sort((a, b) => b.length - a.length)[0] ?? [];
      return {
        afterFirstGc: list[0]?.after ?? 0,
        max: Math.max(0, ...list.map((g) => g.after)),
        last: list.at(-1)?.after ?? 0,
        fullGcs: list.length,
        longestPauseMs: Math.max(0, ...list.map((g) => g.pauseMs)),
      };
    },
  };
}

const perEmail = (n: number, emails: number) => Math.round((n / Math.max(1, emails)) * 100) / 100;

export async function runEngineFanout(options: EngineRunOptions): Promise<EngineRun> {
  const log = options.log ?? ((line: string) => console.log(line));
  const dir = mkdtempSync(join(tmpdir(), "fanout-engine-"));
  const wallStart = Date.now();
  const fake = await startFakeResendProcess({ keepBodies: false });
  let mf: Miniflare | undefined;
  try {
    const { before, after } = await benchDocuments();
    const secrets = devSecrets();
    const account = resendAccount(fake.url, `re_bench_engine_${options.rps}_${options.recipients}`);
    await account.setRateLimit(options.rps);
    const expectedCalls = Math.ceil(options.recipients / 100);
    const replies = faultScript(expectedCalls * 2, options.faultRate ?? 0.05, options.seed ?? 20261123, true);
    await account.enqueue(...replies);

    const fromToml = unstable_getMiniflareWorkerOptions(join(ROOT, "wrangler.toml")).workerOptions as {
      compatibilityDate: string;
      compatibilityFlags: string[];
      d1Databases: Record<string, string>;
      queueProducers: Record<string, { queueName: string }>;
      queueConsumers: Record<string, { maxBatchSize?: number; maxBatchTimeout?: number; maxRetries?: number }>;
      bindings: Record<string, string>;
    };
    // Miniflare reads the flags from the environment when it starts workerd.
    process.env.MINIFLARE_WORKERD_V8_FLAGS = "--trace-gc";
    const gc = gcTrace();
    mf = new Miniflare(
      convertV4MiniflareOptions({
        // The trace's lines come through as unstructured logs; the rest is printed as Miniflare would.
        handleStructuredLogs: ({ level, message }: { level: string; message: string }) => {
          if (!gc.line(message)) (level === "error" ? console.error : console.log)(message);
        },
        // Local D1 in a SQLite file on disk, as `wrangler dev` keeps it.
        resourcePersistencePath: join(dir, "state"),
        enableDevRegistry: false,
        workers: [
          {
            name: "bench",
            modules: true,
            scriptPath: await bundle(dir),
            modulesRoot: dir,
            compatibilityDate: fromToml.compatibilityDate,
            compatibilityFlags: fromToml.compatibilityFlags,
            d1Databases: fromToml.d1Databases,
            queueProducers: fromToml.queueProducers,
            queueConsumers: fromToml.queueConsumers,
            bindings: {
              ...fromToml.bindings,
              ...secrets,
              EMAIL_TRANSPORT: "resend",
              RESEND_BASE_URL: fake.url,
              RESEND_API_KEY: account.apiKey,
              RESEND_MAX_RPS: String(options.rps),
            },
          },
        ],
      }),
    );
    const url = await mf.ready;
    const pid = workerdPid();
    const post = async (path: string, body: unknown) => {
      const res = await fetch(new URL(path, url), { method: "POST", body: JSON.stringify(body) });
      if (!res.ok) throw new Error(`${path}: ${res.status} ${(await res.text()).slice(0, 300)}`);
      return res.json();
    };
    const get = async <T>(path: string): Promise<T> => (await fetch(new URL(path, url))).json() as Promise<T>;

    const migrations = readdirSync(join(ROOT, "worker/migrations"))
      .filter((f) => f.endsWith(".sql"))
      .sort();
    for (const file of migrations) {
      const sql = readFileSync(join(ROOT, "worker/migrations", file), "utf8");
      await post(
        "/bench/sql",
        unstable_splitSqlQuery(sql).map((s) => [s, []]),
      );
    }
    const seedStart = Date.now();
    for (const statement of await seedStatements(options, secrets.NOTICE_TOKEN_KEY ?? "")) {
      await post("/bench/sql", [statement]);
    }
    log(
      `seeded ${options.recipients} ${options.contacts ? "contacts" : "subscribers"} in ${((Date.now() - seedStart) / 1000).toFixed(1)} s (direct D1 inserts)`,
    );

    const baseline = (await post("/bench/publish", before)) as { status: string };
    if (baseline.status !== "baseline") throw new Error(`baseline publish: ${baseline.status}`);
    resetPeak(pid);
    gc.clear();
    const publishStart = Date.now();
    const published = (await post("/bench/publish", after)) as { status: string; recipients: number; chunks: number };
    const publishSeconds = (Date.now() - publishStart) / 1000;
    if (published.status !== "published") throw new Error(`publish: ${JSON.stringify(published)}`);
    const publishPeak = peakRssMb(pid);
    resetPeak(pid);
    log(
      `published to ${published.recipients} recipients in ${published.chunks} batches (${publishSeconds.toFixed(1)} s)`,
    );

    type Stats = { tallies: { publish: Tally; fanout: Tally }; queue: Record<string, number> };
    const limitMs = ((published.chunks / options.rps) * 3 + 120) * 1000;
    let stats = await get<Stats>("/bench/stats");
    let lastLog = Date.now();
    while ((stats.queue.acked ?? 0) < published.chunks) {
      if (Date.now() - publishStart > limitMs) throw new Error(`fan-out not done after ${limitMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 250));
      stats = await get<Stats>("/bench/stats");
      if (Date.now() - lastLog > 10_000) {
        lastLog = Date.now();
        log(
          `  ${stats.queue.acked} of ${published.chunks} batches done after ${((Date.now() - publishStart) / 1000).toFixed(0)} s`,
        );
      }
    }
    const fanoutPeak = peakRssMb(pid);
    // What the resident memory is at the end: the isolates' own (anonymous) and pages of files (D1's SQLite file).
    const rss = { anon: statusMb(pid, "RssAnon"), file: statusMb(pid, "RssFile") };
    const d1FileMb = Math.round(dirBytes(join(dir, "state")) / 2 ** 20);
    if (process.env.BENCH_SQL) {
      for (const [name, t] of Object.entries(stats.tallies))
        for (const [sql, [n, r, w]] of Object.entries(t.bySql))
          log(`${name} ${n} runs, ${r} read, ${w} written: ${sql}`);
    }
    const fanoutSeconds = ((stats.queue.lastAckMs ?? 0) - (stats.queue.firstMessageMs ?? 0)) / 1000;
    if (process.env.BENCH_GAPS) {
      const spans = (stats as unknown as { spans: [number, number, number][] }).spans;
      log(
        `invocations (start, length ms, messages, pause before): ${JSON.stringify(spans.map(([a, b, n], i) => [a - (spans[0]?.[0] ?? 0), b - a, n, i > 0 ? a - (spans[i - 1]?.[1] ?? 0) : 0]))}`,
      );
      const state = await account.state();
      const at = state.requests.map((r) => r.arrivedAtMs).sort((a, b) => a - b);
      log(
        `first message → first call ${Math.round((at[0] ?? 0) - (stats.queue.firstMessageMs ?? 0))} ms; last call → last ack ${Math.round((stats.queue.lastAckMs ?? 0) - (at.at(-1) ?? 0))} ms; invocations ${stats.queue.invocations}, messages ${stats.queue.messages}, retried ${stats.queue.retried}`,
      );
    }

    const state = await account.state();
    const perAddress = new Map<string, number>();
    for (const d of state.delivered) for (const to of d.to) perAddress.set(to, (perAddress.get(to) ?? 0) + 1);
    let duplicates = 0;
    for (const n of perAddress.values()) if (n > 1) duplicates += n - 1;
    const delivered = perAddress.size;
    const missing = published.recipients - delivered;
    const met = faultsMet(replies, state.requests);
    const emailsPerSecond = delivered / fanoutSeconds;
    const ceiling = options.rps * 100;
    const { publish: p, fanout: f } = stats.tallies;
    return {
      recipients: published.recipients,
      kind: options.contacts ? "contacts" : "subscribers",
      rps: options.rps,
      emailsPerSecond: Math.round(emailsPerSecond),
      ceilingPerSecond: ceiling,
      ratio: Math.round((emailsPerSecond / ceiling) * 1000) / 1000,
      overLimitCalls: state.overLimit ?? 0,
      duplicates,
      missing,
      d1RowsWrittenPerEmail: perEmail(f.rowsWritten, delivered),
      d1RowsReadPerEmail: perEmail(f.rowsRead, delivered),
      d1RowsWrittenPerEmailWithPublish: perEmail(f.rowsWritten + p.rowsWritten, delivered),
      d1RowsReadPerEmailWithPublish: perEmail(f.rowsRead + p.rowsRead, delivered),
      ...arrivalFigures(state.requests, options.rps),
      slotsGivenUp:
        Object.entries(f.bySql)
          .filter(([sql]) => sql.startsWith("INSERT INTO send_log"))
          .reduce((n, [, [runs]]) => n + runs, 0) - state.requests.length,
      queueMessagesPerEmail: Math.round(((stats.queue.messages ?? 0) / Math.max(1, delivered)) * 10_000) / 10_000,
      peakRssMb: fanoutPeak,
      liveHeapMb: gc.busiest(),
      rssAtEndMb: `${rss.anon} anonymous + ${rss.file} file`,
      d1FileMb,
      publishPeakRssMb: publishPeak,
      requests: state.requests.length,
      faults: `${met.rateLimited} × 429, ${met.failed} × 500, ${met.lost} lost answers`,
      fanoutSeconds: Math.round(fanoutSeconds * 10) / 10,
      publishSeconds: Math.round(publishSeconds * 10) / 10,
      wallSeconds: Math.round((Date.now() - wallStart) / 100) / 10,
    };
  } finally {
    await mf?.dispose();
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The suite's figures (bench/results/latest.json `fanoutEngine`): the 50,000 at 10 req/s run, and every run. */
export interface FanoutEngineBench extends Omit<EngineRun, "recipients" | "kind"> {
  subscribers: number;
  engine: string;
  loadAverage: string;
  inMemory: { emailsPerSecond: number; ratio: number; overLimitCalls: number; duplicates: number; missing: number };
  runs: EngineRun[];
}

export async function benchFanoutEngine(log: (line: string) => void = console.log): Promise<FanoutEngineBench> {
  const loadBefore = loadavg();
  const runs: EngineRun[] = [];
  for (const options of [
    { recipients: 50_000, rps: 10 },
    { recipients: 20_000, rps: 2 },
    { recipients: 20_000, rps: 10, contacts: true },
  ]) {
    log(`${options.recipients} ${options.contacts ? "contacts" : "subscribers"} at ${options.rps} req/s`);
    runs.push(await runEngineFanout({ ...options, log }));
  }
  // The same 50,000 at 10 req/s through the send loop alone (Node, in-memory store): algorithm against engine.
  const memory = await benchFanout({ subscribers: 50_000, rps: 10, log });
  const [head] = runs;
  if (!head) throw new Error("no run");
  const rows = [
    ...runs.map((r) => ({ run: `engine: ${r.recipients} ${r.kind} @ ${r.rps}/s`, ...r })),
    {
      run: `in-memory: ${memory.recipients} subscribers @ ${memory.rps}/s`,
      emailsPerSecond: memory.emailsPerSec,
      ceilingPerSecond: memory.ceiling,
      ratio: memory.ratio,
      overLimitCalls: memory.overLimit,
      duplicates: memory.duplicates,
      missing: memory.missing,
      fanoutSeconds: memory.seconds,
    },
  ];
  console.table(
    rows.map(({ run, emailsPerSecond, ceilingPerSecond, ratio, overLimitCalls, duplicates, missing, ...rest }) => ({
      run,
      "emails/s": emailsPerSecond,
      ceiling: ceilingPerSecond,
      ratio,
      "over limit": overLimitCalls,
      duplicates,
      missing,
      "D1 written/email": "d1RowsWrittenPerEmail" in rest ? rest.d1RowsWrittenPerEmail : "–",
      "D1 read/email": "d1RowsReadPerEmail" in rest ? rest.d1RowsReadPerEmail : "–",
      "workerd peak MB": "peakRssMb" in rest ? rest.peakRssMb : "–",
      "live heap MB (max)": "liveHeapMb" in rest ? rest.liveHeapMb.max : "–",
      seconds: rest.fanoutSeconds,
    })),
  );
  const { recipients, kind: _kind, ...figures } = head;
  return {
    subscribers: recipients,
    ...figures,
    engine:
      "worker bundled with esbuild, run in workerd through Miniflare's API; local D1 on disk and local Queues from " +
      "wrangler.toml; fake Resend in its own process; recipients seeded by direct D1 inserts",
    loadAverage: `${[...loadBefore, ...loadavg()].map((l) => l.toFixed(1)).join(" ")} (1, 5, 15 min, before and after)`,
    inMemory: {
      emailsPerSecond: memory.emailsPerSec,
      ratio: memory.ratio,
      overLimitCalls: memory.overLimit,
      duplicates: memory.duplicates,
      missing: memory.missing,
    },
    runs,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const result = await runEngineFanout({
    recipients: Number(arg("recipients") ?? 5000),
    rps: Number(arg("rps") ?? 10),
    contacts: process.argv.includes("--contacts"),
  });
  console.table(result);
}
