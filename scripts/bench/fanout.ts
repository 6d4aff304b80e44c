// Fan-out benchmark (issue 5, "Measured"): 50,000 subscribers through the real queue-consumer logic — the pure planner
// (domain/notice.ts), the send loop (worker/notices/engine/fanout.ts), the notice renderer and the worker's Resend adapter
// (worker/email/resend.ts, Resend SDK) — against the fake Resend in a separate process, which enforces a request rate
// and injects 429 and 500 answers. Runs in Node with the in-memory delivery store (same interface as the D1 one):
// 50,000 deliveries through workerd's local D1 would measure the simulator, not the fan-out.
import { buildNotice, planFanout } from "../../domain/notice.ts";
import type { Locale } from "../../domain/schema/common.ts";
import { memoryDeliveryStore } from "../../testing/memory-store.ts";
import { resendAccount } from "../../testing/resend-control.ts";
import { startFakeResendProcess } from "../../testing/resend-server.ts";
import { resendTransport } from "../../worker/email/resend.ts";
import {
  type FanoutDeps,
  type FanoutMessage,
  type LiveSubscriber,
  processMessage,
} from "../../worker/notices/engine/fanout.ts";
import { memoryRateLimiter, transportSender } from "../../worker/notices/engine/rate.ts";
import { noticeToken } from "../../worker/notices/engine/tokens.ts";
import { benchDocuments, faultScript, faultsMet } from "./fanout-setup.ts";

export interface FanoutBenchOptions {
  subscribers?: number;
  /** The fake's request limit and RESEND_MAX_RPS (Resend plan: 2/s; 10/s keeps the run under a minute). */
  rps?: number;
  /** Share of calls answered 429 (retry-after 1) or 500, half each. */
  faultRate?: number;
  /** Queue messages handled at once (concurrent consumer invocations). */
  concurrency?: number;
  seed?: number;
  log?: (line: string) => void;
}

export interface FanoutBenchResult {
  subscribers: number;
  recipients: number;
  rps: number;
  emailsPerSec: number;
  /** rps × 100 emails per batch call: the most the provider's limit allows. */
  ceiling: number;
  ratio: number;
  duplicates: number;
  missing: number;
  requests: number;
  injected429: number;
  injected500: number;
  overLimit: number;
  seconds: number;
  planSeconds: number;
  store: string;
}

export async function benchFanout(options: FanoutBenchOptions = {}): Promise<FanoutBenchResult> {
  const total = options.subscribers ?? 50_000;
  const rps = options.rps ?? 10;
  const faultRate = options.faultRate ?? 0.05;
  const concurrency = options.concurrency ?? Math.max(4, rps);
  const log = options.log ?? ((line: string) => console.log(line));
  const { before, after, vendor } = await benchDocuments();
  const notice = buildNotice(before, after, { publicationId: "2", sequence: 2, publishedAt: new Date().toISOString() });

  const regionChoices: string[][] = [[], ["uk"], ["de"], ["ca"], ["eea"], ["ch"], ["uk", "de"]];
  const subscribers: LiveSubscriber[] = Array.from({ length: total }, (_, i) => ({
    id: `s${String(i).padStart(6, "0")}`,
    email: `subscriber${i}@bench.example`,
    status: "confirmed",
    locale: (i % 2 === 0 ? "da" : "en") as Locale,
    topics: ["subprocessors", "dpa"],
    regions: regionChoices[i % regionChoices.length] ?? [],
  }));

  const planStart = performance.now();
  const plan = planFanout(notice, subscribers);
  const planSeconds = (performance.now() - planStart) / 1000;
  log(`planned ${plan.recipients.length} recipients in ${plan.chunks.length} batches (${planSeconds.toFixed(1)} s)`);

  const fake = await startFakeResendProcess({ keepBodies: false });
  try {
    const account = resendAccount(fake.url, "re_bench_fanout");
    await account.setRateLimit(rps);
    // 5% of calls fail: 429 with retry-after or 500, scripted in advance from a seeded PRNG.
    const replies = faultScript(plan.chunks.length * 2, faultRate, options.seed ?? 20261123);
    await account.enqueue(...replies);

    const store = memoryDeliveryStore(subscribers);
    const env = {
      RESEND_API_KEY: account.apiKey,
      RESEND_BASE_URL: fake.url,
      EMAIL_FROM: "Notices <notices@bench.example>",
    };
    const deps: FanoutDeps = {
      store,
      sender: transportSender(resendTransport(env)),
      limiter: memoryRateLimiter(rps),
      notice: async () => notice,
      vendor,
      baseUrl: "https://portal.example",
      manageToken: (pub, id, contact) => noticeToken("bench-secret", pub, id, contact),
      now: () => new Date(),
      maxAttempts: 10,
    };

    // The queue: ready messages, and retried ones that come back after their delay.
    const ready: { body: FanoutMessage; attempts: number }[] = plan.chunks.map((c) => ({
      body: { publicationId: 2, chunk: c.index, subscriberIds: c.subscriberIds },
      attempts: 1,
    }));
    let outstanding = ready.length;
    const start = performance.now();
    const consumer = async () => {
      while (outstanding > 0) {
        const next = ready.shift();
        if (!next) {
          await new Promise((r) => setTimeout(r, 20));
          continue;
        }
        const result = await processMessage(deps, next.body, next.attempts);
        if (result.action === "ack") outstanding--;
        else {
          setTimeout(() => ready.push({ body: next.body, attempts: next.attempts + 1 }), result.delaySeconds * 1000);
        }
      }
    };
    const progress = setInterval(() => {
      const sent = [...store.deliveries.values()].filter((d) => d.status === "sent").length;
      log(`  ${sent} sent after ${((performance.now() - start) / 1000).toFixed(0)} s`);
    }, 10_000);
    await Promise.all(Array.from({ length: concurrency }, consumer));
    clearInterval(progress);
    const seconds = (performance.now() - start) / 1000;

    const state = await account.state();
    const perAddress = new Map<string, number>();
    for (const d of state.delivered) for (const to of d.to) perAddress.set(to, (perAddress.get(to) ?? 0) + 1);
    const byId = new Map(subscribers.map((s) => [s.id, s.email]));
    let duplicates = 0;
    let missing = 0;
    for (const id of plan.recipients) {
      const n = perAddress.get(byId.get(id) ?? "") ?? 0;
      if (n === 0) missing++;
      if (n > 1) duplicates += n - 1;
    }
    const met = faultsMet(replies, state.requests);
    const delivered = plan.recipients.length - missing;
    const emailsPerSec = delivered / seconds;
    const ceiling = rps * 100;
    return {
      subscribers: total,
      recipients: plan.recipients.length,
      rps,
      emailsPerSec: Math.round(emailsPerSec),
      ceiling,
      ratio: Math.round((emailsPerSec / ceiling) * 1000) / 1000,
      duplicates,
      missing,
      requests: state.requests.length,
      injected429: met.rateLimited,
      injected500: met.failed,
      overLimit: state.overLimit ?? 0,
      seconds: Math.round(seconds * 10) / 10,
      planSeconds: Math.round(planSeconds * 10) / 10,
      store: "in-memory store (Node) with the D1 store's interface; fake Resend in its own process",
    };
  } finally {
    await fake.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? Number(process.argv[i + 1]) : undefined;
  };
  const result = await benchFanout({
    ...(arg("subscribers") ? { subscribers: arg("subscribers") } : {}),
    ...(arg("rps") ? { rps: arg("rps") } : {}),
    ...(arg("concurrency") ? { concurrency: arg("concurrency") } : {}),
  });
  console.table(result);
}
