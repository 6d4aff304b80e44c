// Webhook benchmark (issue 16, "Proof"): one publication to 1,000 active endpoints through the real worker in workerd —
// `npm start` (wrangler dev: Miniflare with the local D1 and the `webhooks` queue, its consumer in the same worker) —
// all on one local webhook receiver in its own process that verifies every call with the `standardwebhooks` library
// and de-duplicates by webhook-id. The endpoints and their subscribers are written into the local D1 before the
// worker starts, as registration would leave them (active, secret sealed under the development WEBHOOK_SECRET_KEY);
// the publication is the real POST /api/admin/publish against the built site, after a previous publication that
// lacks one sub-processor. Figures: deliveries per second (publish call to the last event the receiver accepted),
// p99 latency of an attempt as the ledger recorded it, duplicates and missing events as the receiver counted them.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { loadContent } from "../../content-io/load-content.ts";
import { type AnnexCDocument, annexCDocument, fingerprint } from "../../domain/annex.ts";
import { webhookReceiver } from "../../testing/webhook-receiver-control.ts";
import { newWebhookSecret, sealSecret } from "../../worker/webhooks/secret.ts";
import { freePort, stopServer, waitForHealth } from "./server.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const wranglerBin = join(
  dirname(createRequire(import.meta.url).resolve("wrangler/package.json")),
  "bin",
  "wrangler.js",
);

export interface WebhooksBenchOptions {
  endpoints?: number;
  /** Build the site first (default); false serves the existing dist/. */
  build?: boolean;
  maxSeconds?: number;
  log?: (line: string) => void;
}

export interface WebhooksBenchResult {
  endpoints: number;
  deliveriesPerSecond: number;
  p99LatencyMs: number;
  duplicates: number;
  missing: number;
  seconds: number;
}

/** A value of the development vars (.dev.vars, made from .dev.vars.example by npm start when missing). */
function devVar(name: string): string {
  const file = [".dev.vars", ".dev.vars.example"]
    .map((f) => join(root, f))
    .find((f) => {
      try {
        return readFileSync(f, "utf8").length > 0;
      } catch {
        return false;
      }
    });
  const line = readFileSync(file ?? "", "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${name}=`));
  if (!line) throw new Error(`${name} is not in .dev.vars`);
  return line.slice(name.length + 1).replace(/^'(.*)'$/, "$1");
}

function wrangler(args: string[]): string {
  const out = spawnSync(process.execPath, [wranglerBin, ...args], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    maxBuffer: 64 << 20,
  });
  if (out.status !== 0) throw new Error(`wrangler ${args.slice(0, 2).join(" ")} failed: ${out.stderr || out.stdout}`);
  return out.stdout;
}

const sql = (value: string | number | null) =>
  value === null ? "NULL" : typeof value === "number" ? String(value) : `'${value.replace(/'/g, "''")}'`;

/**
 * The publication before the deployed one: the same document without one sub-processor that every customer has (and
 * without the changes that name it), so the deployed list adds it for every region and cohort.
 */
async function previousDocument(deployed: AnnexCDocument): Promise<AnnexCDocument> {
  const victim = deployed.snapshot.entries.find((e) => e.locations.every((l) => !l.appliesTo));
  if (!victim) throw new Error("no sub-processor that applies to every customer");
  const snapshot = { ...deployed.snapshot, entries: deployed.snapshot.entries.filter((e) => e.id !== victim.id) };
  return {
    ...deployed,
    snapshot,
    changes: deployed.changes.filter((c) => !c.subprocessors.includes(victim.id)),
    fingerprint: await fingerprint(snapshot),
  };
}

async function seed(state: string, receiverUrl: string, endpoints: number, secret: string): Promise<void> {
  const { content, errors } = loadContent(root);
  if (!content) throw new Error(`content does not validate: ${errors.length} error(s)`);
  const previous = await previousDocument(await annexCDocument(content));
  const now = new Date().toISOString();
  const key = { WEBHOOK_SECRET_KEY: devVar("WEBHOOK_SECRET_KEY") };
  const lines = [
    "INSERT INTO publications (sequence, fingerprint, previous_fingerprint, kind, published_at, document, diff, " +
      "announced, recipient_count, fanout_enqueued_at, fanout_completed_at) VALUES " +
      `(1, ${sql(previous.fingerprint)}, NULL, 'baseline', ${sql(now)}, ${sql(JSON.stringify(previous))}, ` +
      `'{"added":[],"removed":[],"changed":[]}', '[]', 0, ${sql(now)}, ${sql(now)});`,
  ];
  // Ten endpoints per subscriber (the registration cap), in every region the content knows.
  const regions = [[], ...content.vendor.regions.map((r) => [r.id])];
  for (let s = 0; s < Math.ceil(endpoints / 10); s++) {
    lines.push(
      "INSERT INTO subscribers (id, email, locale, topics, regions, status, created_at, updated_at, confirmed_at) " +
        `VALUES ('bench-sub-${s}', 'bench${s}@bench.example', 'en', '["dpa"]', ${sql(JSON.stringify(regions[s % regions.length]))}, ` +
        `'confirmed', ${sql(now)}, ${sql(now)}, ${sql(now)});`,
    );
  }
  for (let i = 0; i < endpoints; i++) {
    const id = `ep_bench_${String(i).padStart(4, "0")}`;
    lines.push(
      "INSERT INTO webhook_endpoints (id, subscriber_id, url, regions, cohort, secret_sealed, status, activated_at, " +
        `created_at, updated_at) VALUES (${sql(id)}, 'bench-sub-${Math.floor(i / 10)}', ${sql(`${receiverUrl}/r/bench`)}, ` +
        `NULL, NULL, ${sql(await sealSecret(key, id, secret))}, 'active', ${sql(now)}, ${sql(now)}, ${sql(now)});`,
    );
  }
  const file = join(state, "seed.sql");
  writeFileSync(file, `${lines.join("\n")}\n`);
  wrangler(["d1", "migrations", "apply", "DB", "--local", "--persist-to", state]);
  wrangler(["d1", "execute", "DB", "--local", "--persist-to", state, "--file", file]);
}

async function startReceiverProcess(): Promise<{ url: string; stop: () => Promise<void> }> {
  const script = fileURLToPath(new URL("./webhook-receiver-process.ts", import.meta.url));
  const child = spawn(process.execPath, [script], { stdio: ["pipe", "pipe", "inherit"] });
  const [chunk] = (await once(child.stdout, "data")) as [Buffer];
  const url = chunk.toString("utf8").trim().split("\n")[0] ?? "";
  if (!url.startsWith("http")) throw new Error(`webhook receiver did not start: ${url}`);
  return {
    url,
    stop: async () => {
      child.stdin.end();
      await once(child, "exit");
    },
  };
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

export async function benchWebhooks(options: WebhooksBenchOptions = {}): Promise<WebhooksBenchResult> {
  const endpoints = options.endpoints ?? 1000;
  const maxSeconds = options.maxSeconds ?? 300;
  const log = options.log ?? ((line: string) => console.log(line));
  const receiverProcess = await startReceiverProcess();
  const state = mkdtempSync(join(tmpdir(), "bench-webhooks-"));
  const secret = newWebhookSecret();
  let child: ChildProcess | undefined;
  try {
    const receiver = webhookReceiver(receiverProcess.url, "bench");
    await receiver.setSecrets(secret);
    await receiver.keepBodies(false);
    log(`seeding ${endpoints} active endpoints on ${receiverProcess.url}/r/bench…`);
    await seed(state, receiverProcess.url, endpoints, secret);

    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    log(`starting npm start on ${base}${options.build === false ? "" : " (building the site first)"}…`);
    child = spawn(
      process.execPath,
      [join(root, "scripts", "start.ts"), ...(options.build === false ? ["--no-build"] : []), "--persist-to", state],
      {
        cwd: root,
        detached: true,
        env: { ...process.env, PORT: String(port), WRANGLER_LOG: "warn" },
        stdio: ["ignore", "ignore", "inherit"],
      },
    );
    await waitForHealth(base, child, 240_000);

    const admin = { Authorization: `Bearer ${devVar("ADMIN_TOKEN")}` };
    const started = Date.now();
    const published = await fetch(`${base}/api/admin/publish`, { method: "POST", headers: admin });
    const result = (await published.json()) as { status: string; sequence: number };
    if (result.status !== "published") throw new Error(`publish answered ${JSON.stringify(result).slice(0, 300)}`);
    log(`publication ${result.sequence} recorded; waiting for ${endpoints} events at the receiver…`);

    let seen = 0;
    let last = started;
    for (const deadline = started + maxSeconds * 1000; Date.now() < deadline; ) {
      const s = await receiver.state();
      seen = Object.keys(s.unique).length;
      last = Math.max(started, ...s.calls.map((c) => Date.parse(c.receivedAt)));
      if (seen >= endpoints) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    // A moment more, so that a late duplicate would be counted.
    await new Promise((r) => setTimeout(r, 1000));
    const final = await receiver.state();
    const ledger = await fetch(`${base}/api/admin/publications/${result.sequence}/webhooks`, { headers: admin });
    const { deliveries } = (await ledger.json()) as {
      deliveries: { status: string; attemptLog: { latencyMs: number | null }[] }[];
    };
    const latencies = deliveries.flatMap((d) => d.attemptLog.map((a) => a.latencyMs ?? 0));
    const unique = Object.keys(final.unique).length;
    const seconds = Math.round((last - started) / 100) / 10;
    const figures: WebhooksBenchResult = {
      endpoints,
      deliveriesPerSecond: Math.round((unique / Math.max(seconds, 0.1)) * 10) / 10,
      p99LatencyMs: percentile(latencies, 99),
      duplicates: final.duplicates,
      missing: endpoints - unique,
      seconds,
    };
    log(
      `${unique}/${endpoints} events in ${seconds} s = ${figures.deliveriesPerSecond}/s, p99 attempt ${figures.p99LatencyMs} ms, ` +
        `${final.duplicates} duplicates, ${figures.missing} missing, ${final.rejected} refused by the receiver, ` +
        `${deliveries.filter((d) => d.status === "delivered").length} delivered in the ledger`,
    );
    return figures;
  } finally {
    if (child) await stopServer(child);
    await receiverProcess.stop();
    rmSync(state, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { endpoints: { type: "string" }, "no-build": { type: "boolean" } } });
  benchWebhooks({
    ...(values.endpoints ? { endpoints: Number(values.endpoints) } : {}),
    ...(values["no-build"] ? { build: false } : {}),
  }).then(
    (r) => console.table(r),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
