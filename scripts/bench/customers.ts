// Customer import and evidence at scale (issue 13, "Proof"): 10,000 customers with 2 notice contacts each imported as
// one CSV through POST /api/admin/customers/import, a dry run and an identical re-import of it, then a publication to
// those customers and its evidence as JSON and CSV. Everything runs against the real worker: `npm start` (wrangler
// dev, workerd, local D1, the outbox email transport) in a fresh copy of the checkout, because the publication needs a
// content change and a rebuild. Times are ratios to a trivial admin request on the same server in the same run.
//
// Memory: the Workers isolate may use 128 MB (Cloudflare Workers limits). The figure is the worker's workerd process's
// peak RSS during the import (VmHWM, reset just before the request on a freshly started worker) minus its RSS at rest:
// an upper bound, as that process also holds local D1's SQLite and its page cache. The isolate's JS heap is sampled
// too, through the workerd inspector (Chrome DevTools protocol `Runtime.getHeapUsage`), but the inspector does not
// answer while a request runs, so those samples only bound the peak from below; the longest gap is reported.
// Run alone with `node scripts/bench/customers.ts [--customers N]`, or through `npm run bench` (scripts/bench.ts).
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { addSubProcessor } from "../../testing/content-change.ts";
import { copyCheckout, type Portal, removeCopy, startPortal } from "../../testing/portal.ts";
import { freePort } from "./server.ts";

export interface CustomersBenchOptions {
  /** Customers in the file (default 10,000), each with two contacts. */
  customers?: number;
  /** How long the fan-out of the publication may take before the evidence is measured anyway (default 15 min). */
  fanoutTimeoutSeconds?: number;
  log?: boolean;
}

export interface CustomersBenchResult {
  server: string;
  customers: number;
  contacts: number;
  csvMb: number;
  /** Median of a trivial admin request (GET of an unknown customer: admin check, one D1 read, 404). */
  trivialMs: number;
  importSeconds: number;
  /** (importSeconds / customers) / trivialMs: an import costs this many trivial requests per customer. */
  importPerCustomerRatio: number;
  /** The worker's workerd: VmHWM during the import minus its RSS at rest (includes local D1's SQLite). */
  importPeakMb: number;
  memoryMethod: string;
  /** The isolate's JS heap at rest just before the import (the least of a few samples). */
  importIdleHeapMb: number;
  /** The largest JS heap sample during the import: a lower bound of the peak (see heapSampleMaxGapMs). */
  importHeapSampledMb: number;
  /** Longest gap between two heap samples during the import: the inspector is silent while a request runs. */
  heapSampleMaxGapMs: number;
  registrationEmails: number;
  registrationSeconds: number;
  dryRunSeconds: number;
  dryRunPerCustomerRatio: number;
  reimportSeconds: number;
  reimportPerCustomerRatio: number;
  /** Customers updated plus emails sent by the identical re-import: must be 0. */
  reimportWrites: number;
  fanoutSeconds: number;
  fanoutComplete: boolean;
  evidenceCustomers: number;
  evidenceDelivered: number;
  evidenceJsonSeconds: number;
  evidenceJsonMb: number;
  evidenceCsvSeconds: number;
  evidenceCsvMb: number;
  /** evidence JSON time per customer over the trivial request. */
  evidenceJsonPerCustomerRatio: number;
  evidenceCsvPerCustomerRatio: number;
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
const mb = (bytes: number) => bytes / 2 ** 20;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The CSV of `n` customers spread over every region and both contract cohorts, two contacts each (one in Danish). */
export function customersCsv(n: number): string {
  const regions = ["uk", "de", "ca", "eea"];
  const lines = ["externalId;name;region;contractDate;cohort;locale;contactEmail;contactName;contactLocale"];
  for (let i = 0; i < n; i++) {
    const id = `B-${String(i).padStart(6, "0")}`;
    const region = regions[i % regions.length];
    // Half signed on or before 5 July 2023 (legacy), half after (current).
    const date = i % 2 === 0 ? "2022-03-14" : "2024-09-02";
    const locale = i % 3 === 0 ? "da" : "en";
    lines.push(
      `${id};Bench Customer ${i} A/S;${region};${date};;${locale};dpo-${i}@bench.example;Data Protection Officer;`,
    );
    lines.push(`${id};;;;;;legal-${i}@bench.example;;da`);
  }
  return `\uFEFF${lines.join("\r\n")}\r\n`;
}

/** A Chrome DevTools protocol session with the worker's isolate, through wrangler's inspector proxy. */
async function inspect(port: number) {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json`)).json()) as { webSocketDebuggerUrl: string }[];
  const url = targets[0]?.webSocketDebuggerUrl;
  if (!url) throw new Error(`the inspector on port ${port} lists no worker`);
  // Wrangler's inspector proxy admits a client from a local Origin only (DevTools sends one; Node's WebSocket does not).
  const ws = new WebSocket(url, { headers: { Origin: "http://localhost" } } as unknown as string[]);
  await new Promise((ok, fail) => {
    ws.addEventListener("open", ok, { once: true });
    ws.addEventListener("error", fail, { once: true });
  });
  let id = 0;
  const waiting = new Map<number, (result: unknown) => void>();
  ws.addEventListener("message", (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown };
    if (message.id !== undefined) waiting.get(message.id)?.(message.result);
    if (message.id !== undefined) waiting.delete(message.id);
  });
  const send = <T>(method: string, params: Record<string, unknown> = {}) =>
    new Promise<T>((ok) => {
      id += 1;
      waiting.set(id, ok as (result: unknown) => void);
      ws.send(JSON.stringify({ id, method, params }));
    });
  const heapUsed = async () => (await send<{ usedSize: number }>("Runtime.getHeapUsage")).usedSize;
  return {
    heapUsed,
    /** Samples the heap until `stop` is called; answers the peak and the longest gap between two samples. */
    sample() {
      let running = true;
      let peak = 0;
      let maxGap = 0;
      const done = (async () => {
        let last = performance.now();
        while (running) {
          peak = Math.max(peak, await heapUsed());
          const at = performance.now();
          maxGap = Math.max(maxGap, at - last);
          last = at;
          await sleep(5);
        }
      })();
      return async () => {
        running = false;
        await done;
        return { peak, maxGap };
      };
    },
    close: () => ws.close(),
  };
}

/** The workerd processes under the `npm start` process `root` (wrangler's child and its descendants). */
function workerdPids(root: number): number[] {
  const children = new Map<number, number[]>();
  const names = new Map<number, string>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      names.set(Number(entry), name);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // The process ended while we looked.
    }
  }
  const found: number[] = [];
  const walk = (pid: number) => {
    for (const child of children.get(pid) ?? []) {
      if (names.get(child) === "workerd") found.push(child);
      walk(child);
    }
  };
  walk(root);
  return found;
}

/** VmRSS and VmHWM of a process, in bytes. */
function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb("VmRSS"), hwm: kb("VmHWM") };
}

/** Resets a process's VmHWM to its present RSS (proc(5), clear_refs "5"). */
function resetPeak(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, "5");
}

async function timed<T>(work: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const start = performance.now();
  const value = await work();
  return { seconds: (performance.now() - start) / 1000, value };
}

interface ImportAnswer {
  counts: { created: number; updated: number; unchanged: number; removed: number };
}

export async function benchCustomers(options: CustomersBenchOptions = {}): Promise<CustomersBenchResult> {
  const n = options.customers ?? 10_000;
  const log = options.log ?? true;
  const say = (message: string) => log && console.log(message);
  const dir = copyCheckout("bench-customers-");
  const state = join(dir, ".bench-state");
  const inspectorPort = await freePort();
  const args = [
    "--persist-to",
    state,
    "--inspector-port",
    String(inspectorPort),
    // Registration and notice emails go to the local D1 outbox (never sent); the fan-out's provider budget is raised
    // from Resend's 2 requests/s so 20,000 notices take minutes, not a quarter of an hour.
    "--var",
    "EMAIL_TRANSPORT:outbox",
    "--var",
    "RESEND_MAX_RPS:20",
  ];
  let portal: Portal | undefined;
  // Stopped from outside (Ctrl-C, a timeout): the server runs in a process group of its own, so stop it here.
  const interrupted = () =>
    void (portal?.stop() ?? Promise.resolve()).finally(() => {
      removeCopy(dir);
      process.exit(130);
    });
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);
  try {
    say(`starting npm start in a copy of the checkout (${dir}), building the site…`);
    portal = await startPortal({ dir, args, timeoutMs: 300_000 });
    // The server is restarted once (on another port) to deploy a content change.
    const url = () => (portal as Portal).url;
    const admin = { Authorization: `Bearer ${portal.adminToken}` };
    const api = (path: string, init: RequestInit = {}) =>
      fetch(`${url()}${path}`, { ...init, headers: { ...admin, ...(init.headers ?? {}) } });
    const newestOutboxId = async () => {
      const emails = (await (await fetch(`${url()}/api/dev/outbox?limit=1`)).json()) as { id: number }[];
      return emails[0]?.id ?? 0;
    };
    const publish = async () => {
      const res = await api("/api/admin/publish", { method: "POST" });
      if (!res.ok) throw new Error(`POST /api/admin/publish answered ${res.status}: ${await res.text()}`);
      return (await res.json()) as { status: string; sequence?: number };
    };

    // The shipped content is the baseline publication: nobody is written to.
    const baseline = await publish();
    say(`baseline publication: ${baseline.status}`);

    // The trivial request the figures are compared with.
    const trivial: number[] = [];
    for (let i = 0; i < 40; i++) {
      const { seconds, value } = await timed(() => api("/api/admin/customers/bench-nobody"));
      await value.body?.cancel();
      if (value.status !== 404) throw new Error(`GET of an unknown customer answered ${value.status}`);
      if (i >= 10) trivial.push(seconds * 1000);
    }
    const trivialMs = median(trivial);
    const perCustomer = (seconds: number) => round((seconds * 1000) / n / trivialMs, 3);

    const csv = customersCsv(n);
    const importFile = (query: string) =>
      timed(async () => {
        const res = await api(`/api/admin/customers/import${query}`, {
          method: "POST",
          headers: { "Content-Type": "text/csv; charset=utf-8" },
          body: csv,
        });
        const text = await res.text();
        if (!res.ok) throw new Error(`import${query} answered ${res.status}: ${text.slice(0, 500)}`);
        return JSON.parse(text) as ImportAnswer;
      });

    say(`dry run of ${n} customers × 2 contacts (${round(mb(csv.length))} MB of CSV)…`);
    const dry = await importFile("?dryRun=1");
    if (dry.value.counts.created !== n) throw new Error(`the dry run would create ${dry.value.counts.created}`);
    if ((await newestOutboxId()) !== 0) throw new Error("the dry run sent email");

    // A fresh worker for the import: the dry run left its heap grown and resident, which would hide the import's peak.
    say("restarting the server (same local D1, no rebuild) for a fresh isolate…");
    await portal.stop();
    portal = await startPortal({ dir, args: ["--no-build", ...args], timeoutMs: 300_000 });
    await (await api("/api/admin/customers/bench-nobody")).body?.cancel();
    const inspector = await inspect(inspectorPort);
    const workerds = workerdPids(portal.pid);
    if (workerds.length === 0) throw new Error("no workerd process found under npm start");
    // At rest: the least of a few samples (workerd's inspector does not answer HeapProfiler.collectGarbage).
    let idleHeap = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 10; i++, await sleep(50)) idleHeap = Math.min(idleHeap, await inspector.heapUsed());
    // wrangler runs more than one workerd (its proxy and the worker): the worker's is the one that grows.
    const idleRss = new Map(workerds.map((pid) => [pid, memoryOf(pid).rss]));
    for (const pid of workerds) resetPeak(pid);
    say("import…");
    const stopSampling = inspector.sample();
    const imported = await importFile("");
    const heap = await stopSampling();
    const rssGrowth = Math.max(...workerds.map((pid) => memoryOf(pid).hwm - (idleRss.get(pid) ?? 0)));
    if (imported.value.counts.created !== n) throw new Error(`the import created ${imported.value.counts.created}`);

    // Registration emails are written after the answer (waitUntil): wait until all of them are in the outbox.
    say("waiting for the registration emails (written after the answer)…");
    const registrations = await timed(async () => {
      for (let waited = 0; waited < 600 && (await newestOutboxId()) < 2 * n; waited++) await sleep(500);
      return newestOutboxId();
    });
    inspector.close();

    const customersUpdatedAt = async () => {
      const res = await api("/api/admin/customers");
      const body = (await res.json()) as { customers: { externalId: string; updatedAt: string }[] };
      return new Map(body.customers.map((c) => [c.externalId, c.updatedAt]));
    };
    const before = await customersUpdatedAt();
    say("identical re-import…");
    const reimport = await importFile("");
    if (reimport.value.counts.unchanged !== n) throw new Error(`the re-import left ${reimport.value.counts.unchanged}`);
    await sleep(2_000);
    const after = await customersUpdatedAt();
    const updated = [...after].filter(([id, at]) => before.get(id) !== at).length;
    const reimportWrites = updated + ((await newestOutboxId()) - registrations.value);

    // A change that concerns customers: a new sub-processor, deployed by a rebuild; the local D1 database is kept.
    say("adding a sub-processor and restarting (rebuild)…");
    await portal.stop();
    addSubProcessor(dir, "bench-helpdesk", "Bench Helpdesk");
    portal = await startPortal({ dir, args, timeoutMs: 300_000 });
    const emailsBefore = await newestOutboxId();
    const published = await publish();
    if (published.status !== "published") throw new Error(`the publish check answered ${published.status}`);
    const id = published.sequence;

    say(`fan-out of publication ${id}…`);
    const fanoutLimit = (options.fanoutTimeoutSeconds ?? 900) * 2;
    const fanout = await timed(async () => {
      for (let waited = 0; waited < fanoutLimit; waited++) {
        const res = await api("/api/admin/publications");
        const body = (await res.json()) as { publications: { id: number; fanout: { complete: boolean } }[] };
        if (body.publications.find((p) => p.id === id)?.fanout.complete) return true;
        await sleep(500);
      }
      return false;
    });
    say(`fan-out ${fanout.value ? "complete" : "NOT complete"}: ${(await newestOutboxId()) - emailsBefore} emails`);

    const evidence = async (suffix: string) => {
      const runs: { seconds: number; value: string }[] = [];
      for (let i = 0; i < 3; i++) {
        runs.push(
          await timed(async () => {
            const res = await api(`/api/admin/publications/${id}/evidence${suffix}`);
            const text = await res.text();
            if (!res.ok) throw new Error(`evidence${suffix} answered ${res.status}: ${text.slice(0, 500)}`);
            return text;
          }),
        );
      }
      const seconds = median(runs.map((r) => r.seconds));
      return { seconds, text: runs[0]?.value ?? "" };
    };
    say("evidence JSON and CSV…");
    const json = await evidence("");
    const csvEvidence = await evidence(".csv");
    const totals = (JSON.parse(json.text) as { totals: { customers: number; delivered: number } }).totals;

    const result: CustomersBenchResult = {
      server: "npm start: wrangler dev (workerd) with local D1, EMAIL_TRANSPORT=outbox",
      customers: n,
      contacts: 2 * n,
      csvMb: round(mb(Buffer.byteLength(csv)), 2),
      trivialMs: round(trivialMs, 2),
      importSeconds: round(imported.seconds, 2),
      importPerCustomerRatio: perCustomer(imported.seconds),
      importPeakMb: round(mb(rssGrowth)),
      memoryMethod:
        "workerd (worker process) VmHWM during the request minus its idle RSS, fresh worker; " +
        "JS heap by CDP Runtime.getHeapUsage as a lower bound",
      importIdleHeapMb: round(mb(idleHeap)),
      importHeapSampledMb: round(mb(heap.peak)),
      heapSampleMaxGapMs: Math.round(heap.maxGap),
      registrationEmails: registrations.value,
      registrationSeconds: round(registrations.seconds, 1),
      dryRunSeconds: round(dry.seconds, 2),
      dryRunPerCustomerRatio: perCustomer(dry.seconds),
      reimportSeconds: round(reimport.seconds, 2),
      reimportPerCustomerRatio: perCustomer(reimport.seconds),
      reimportWrites,
      fanoutSeconds: round(fanout.seconds, 1),
      fanoutComplete: fanout.value,
      evidenceCustomers: totals.customers,
      evidenceDelivered: totals.delivered,
      evidenceJsonSeconds: round(json.seconds, 2),
      evidenceJsonMb: round(mb(Buffer.byteLength(json.text)), 2),
      evidenceCsvSeconds: round(csvEvidence.seconds, 2),
      evidenceCsvMb: round(mb(Buffer.byteLength(csvEvidence.text)), 2),
      evidenceJsonPerCustomerRatio: perCustomer(json.seconds),
      evidenceCsvPerCustomerRatio: perCustomer(csvEvidence.seconds),
    };
    if (log) {
      console.log(
        `import of ${n} customers × 2 contacts: ${result.importSeconds} s (${result.importPerCustomerRatio} trivial ` +
          `requests of ${result.trivialMs} ms per customer), peak ${result.importPeakMb} MB of 128 above the ` +
          `idle worker (VmHWM − RSS; JS heap ${result.importIdleHeapMb} MB at rest, ≥ ${result.importHeapSampledMb} ` +
          `MB sampled, longest gap ${result.heapSampleMaxGapMs} ms) · dry run ${result.dryRunSeconds} s · re-import ${result.reimportSeconds} s, ` +
          `${reimportWrites} writes · registration emails: ${result.registrationEmails} written after the answer ` +
          `(waitUntil) in ${result.registrationSeconds} s · evidence of ${result.evidenceCustomers} customers: JSON ` +
          `${result.evidenceJsonSeconds} s (${result.evidenceJsonMb} MB), CSV ${result.evidenceCsvSeconds} s ` +
          `(${result.evidenceCsvMb} MB)`,
      );
    }
    return result;
  } finally {
    process.off("SIGINT", interrupted);
    process.off("SIGTERM", interrupted);
    await portal?.stop();
    removeCopy(dir);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { customers: { type: "string" } } });
  benchCustomers(values.customers ? { customers: Number(values.customers) } : {}).then(
    (result) => {
      console.table(result);
      process.exit(result.reimportWrites === 0 && result.importPeakMb < 128 ? 0 : 1);
    },
    (err: unknown) => {
      console.error("bench customers failed:", err);
      process.exit(1);
    },
  );
}
