/**
 * A fan-out recovers from any stop (issue 10). Queue messages are lost after the hand-off (enqueued, never consumed),
 * or the consumer is killed at every step of the send loop — before and after each of its D1 operations, including
 * between claim and send and after the provider accepted the batch — and its message is lost with it. The
 * reconciler (run by the publish check and the cron) queues the chunk again once the grace period and the send lease
 * are over, and then:
 * - every recipient was mailed exactly once: one accepted email per address at the fake Resend, and no Idempotency-Key
 *   carried an address twice;
 * - the dead letter queue's messages are recorded with their open rows and alerted; the reconciler re-queues a chunk
 *   at most RECOVERY_MAX_REQUEUES times, then gives its rows up (stuck or dead), lists them and alerts;
 * - a publication not complete an hour after it was published is flagged in the ledger, alerted once and visible in
 *   GET /api/health.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { resendAccount } from "../../testing/resend-control.ts";
import type { Reply } from "../../testing/resend-server.ts";
import worker from "../../worker/index.ts";
import { SEND_LEASE_MS } from "../../worker/notices/engine/fanout.ts";
import { publish } from "../../worker/notices/publish.ts";
import {
  RECOVERY_GRACE_MS,
  RECOVERY_MAX_REQUEUES,
  type RecoveryResult,
  reconcileFanouts,
  recoveryDeps,
} from "../../worker/notices/recovery.ts";
import { call, outbox, resetTables } from "./helpers.ts";
import {
  assetsServing,
  capturingQueue,
  deliver,
  documents,
  gatedDb,
  type QueuedMessage,
  resetNoticeTables,
} from "./notices-helpers.ts";

const { base, changed } = await documents();
const SUBSCRIBERS = 150; // two provider batches (100 + 35) of recipients, and 15 who follow only DPA versions
const RECIPIENTS = 135;
// The real clock: the publish check run through the API reads it.
const T0 = Date.now();
/** Past the send lease and the grace period of anything done at `t`. */
const afterGrace = (t: number) => t + Math.max(SEND_LEASE_MS, RECOVERY_GRACE_MS) + 60_000;
const admin = { Authorization: `Bearer ${env.ADMIN_TOKEN}` };

async function seedSubscribers(): Promise<void> {
  await resetTables();
  const now = "2026-11-01T10:00:00.000Z";
  await env.DB.batch(
    Array.from({ length: SUBSCRIBERS }, (_, i) =>
      env.DB.prepare(
        "INSERT INTO subscribers (id, email, locale, topics, regions, status, created_at, updated_at, confirmed_at) " +
          "VALUES (?1, ?2, ?3, ?4, '[]', 'confirmed', ?5, ?5, ?5)",
      ).bind(
        `sub-${String(i).padStart(4, "0")}`,
        `person${i}@customer.example`,
        i % 2 === 0 ? "da" : "en",
        JSON.stringify(i % 10 === 9 ? ["dpa"] : ["subprocessors", "dpa"]),
        now,
      ),
    ),
  );
}

/** Fresh ledger and fake account; the baseline and the change recorded at `at`. Returns the chunks handed over. */
async function published(account: string, at = T0) {
  await resetNoticeTables();
  await env.DB.prepare("DELETE FROM outbox").run();
  const fake = resendAccount(env.RESEND_BASE_URL, account);
  await fake.reset();
  const { queue, sent } = capturingQueue();
  await publish({ db: env.DB, queue, document: async () => base, now: new Date(at) });
  const result = await publish({ db: env.DB, queue, document: async () => changed, now: new Date(at) });
  expect(result).toMatchObject({ status: "published", recipients: RECIPIENTS, chunks: 2 });
  const bindings = { EMAIL_TRANSPORT: "resend", RESEND_API_KEY: fake.apiKey, RESEND_MAX_RPS: "50" } as Partial<Env>;
  return { fake, messages: [...sent], bindings };
}

/** The reconciler at `at`, with a queue that captures what it hands over (alerts go to the outbox). */
async function reconcile(at: number): Promise<{ result: RecoveryResult; requeued: QueuedMessage[] }> {
  const { queue, sent } = capturingQueue();
  const result = await reconcileFanouts(recoveryDeps({ ...env, NOTICE_QUEUE: queue } as Env, new Date(at)));
  return { result, requeued: sent.map((body, i) => ({ id: `r${at}-${i}`, body, attempts: 1 })) };
}

/** Delivers until every message is acked, with the consumer's clock at `at`. */
async function drainAt(messages: QueuedMessage[], bindings: Partial<Env>, at: number): Promise<void> {
  let pending = messages;
  for (let round = 0; pending.length > 0; round++) {
    if (round > 20) throw new Error("queue not drained after 20 rounds");
    const { outcomes } = await deliver(pending, bindings, { now: () => new Date(at) });
    pending = pending.filter((m) => outcomes.get(m.id) !== "ack").map((m) => ({ ...m, attempts: m.attempts + 1 }));
  }
}

/** Exactly once, as the provider saw it and as the ledger records it. */
async function expectEveryoneMailedOnce(fake: ReturnType<typeof resendAccount>, context: string): Promise<void> {
  const state = await fake.state();
  const perAddress = new Map<string, number>();
  for (const d of state.delivered) for (const to of d.to) perAddress.set(to, (perAddress.get(to) ?? 0) + 1);
  expect(perAddress.size, `${context}: addresses mailed`).toBe(RECIPIENTS);
  expect(
    [...perAddress].filter(([, n]) => n !== 1),
    `${context}: addresses mailed more than once`,
  ).toEqual([]);
  const perKey = new Map<string, string[]>();
  for (const d of state.delivered) {
    const key = d.idempotencyKey ?? "(none)";
    perKey.set(key, [...(perKey.get(key) ?? []), ...d.to]);
  }
  for (const [key, to] of perKey)
    expect(new Set(to).size, `${context}: key ${key} carried an address twice`).toBe(to.length);
  const { results } = await env.DB.prepare(
    "SELECT status, COUNT(*) AS n FROM deliveries WHERE publication_id = 2 GROUP BY status",
  ).all<{ status: string; n: number }>();
  expect(results, `${context}: ledger`).toEqual([{ status: "sent", n: RECIPIENTS }]);
}

beforeAll(seedSubscribers);

describe("messages dropped after the hand-off", () => {
  it("are queued again by the publish check once the grace period is over: everyone mailed exactly once", async () => {
    const { fake, messages, bindings } = await published("re_recovery_dropped");
    const publishCheck = (extra: Partial<Env>) =>
      call(
        "/api/admin/publish",
        { method: "POST", headers: admin },
        { ASSETS: assetsServing(changed), NOTICE_QUEUE: queue, ...extra },
      );
    const { queue, sent } = capturingQueue();
    // The first chunk is consumed; the second is handed to the queue and lost there.
    const [first] = messages;
    if (!first) throw new Error("no chunk was handed over");
    await drainAt([{ id: "m0", body: first, attempts: 1 }], bindings, T0);

    // Within the grace period (the publication is minutes old in real time) nothing is queued again.
    const early = (await (await publishCheck({})).json()) as { status: string; recovery: RecoveryResult };
    expect(early.status).toBe("unchanged");
    expect(early.recovery).toMatchObject({ requeued: 0, incomplete: [2] });
    expect(sent).toHaveLength(0);

    // With the grace period over, the lost chunk — and only it — is queued again.
    const due = (await (await publishCheck({ NOTICE_RECOVERY_GRACE_SECONDS: "0" })).json()) as {
      recovery: RecoveryResult;
    };
    expect(due.recovery).toMatchObject({ requeued: 1, gaveUp: 0, incomplete: [2] });
    expect(sent).toEqual([messages[1]]);
    await drainAt(
      sent.map((body, i) => ({ id: `q${i}`, body, attempts: 1 })),
      bindings,
      T0,
    );
    await expectEveryoneMailedOnce(fake, "dropped");

    const settled = (await (await publishCheck({ NOTICE_RECOVERY_GRACE_SECONDS: "0" })).json()) as {
      recovery: RecoveryResult;
    };
    expect(settled.recovery).toMatchObject({ requeued: 0, completed: [2], incomplete: [] });
    expect(sent).toHaveLength(1);
  });
});

describe("a consumer killed at any step of the send loop", () => {
  /** Every D1 operation of one consumer run of chunk 0, when nothing fails. */
  async function operationsOfOneRun(reply: Reply): Promise<number> {
    const { fake, messages, bindings } = await published("re_recovery_count");
    await fake.enqueue(reply);
    let ops = 0;
    const counting = gatedDb(env.DB, () => {
      ops++;
      return undefined;
    });
    const [first] = messages;
    if (!first) throw new Error("no chunk");
    const { outcomes } = await deliver(
      [{ id: "c", body: first, attempts: 1 }],
      { ...bindings, DB: counting },
      {
        now: () => new Date(T0),
      },
    );
    // A lost answer is retried in place under the same key, and the provider replays its first result.
    expect(outcomes.get("c")).toBe("ack");
    return ops;
  }

  // "deliver-then-drop": the provider accepts the batch and the answer is lost, so the consumer renews its lease and
  // sends the same key again (the provider replays the first result); both paths are cut at every step.
  for (const reply of [{ kind: "ok" }, { kind: "deliver-then-drop" }] as Reply[]) {
    it(`is re-queued after the lease, and everyone is mailed exactly once (provider answer: ${reply.kind})`, {
      timeout: 300_000,
    }, async () => {
      const steps = await operationsOfOneRun(reply);
      // load the notice, open rows with the live subscribers (one statement), claim (rows, lease and any token in one
      // batch), send slot, record the outcome
      expect(steps).toBeGreaterThanOrEqual(5);
      let killedAfterClaim = 0;
      for (let k = 0; k < steps; k++) {
        for (const mode of ["before", "after"] as const) {
          const context = `${reply.kind}, killed ${mode} operation ${k}`;
          const { fake, messages, bindings } = await published(`re_recovery_kill_${reply.kind}_${k}_${mode}`);
          await fake.enqueue(reply);
          // The process dies at operation k: it fails (before or after running) and so does everything after it.
          const dying = gatedDb(env.DB, (op) => (op < k ? undefined : op === k ? mode : "before"));
          const [first] = messages;
          if (!first) throw new Error("no chunk");
          const killedAt = T0 + 60_000;
          await deliver(
            [{ id: "k", body: first, attempts: 1 }],
            { ...bindings, DB: dying },
            {
              now: () => new Date(killedAt),
            },
          );
          // Its message died with it, and the second chunk's message was lost on the queue.
          const claimed = await env.DB.prepare(
            "SELECT COUNT(*) AS n FROM deliveries WHERE publication_id = 2 AND status = 'sending'",
          ).first<{ n: number }>();
          if ((claimed?.n ?? 0) > 0) killedAfterClaim++;

          // While the lease and the grace period run, nothing is queued again.
          expect((await reconcile(killedAt + 1_000)).requeued, context).toHaveLength(0);
          const later = afterGrace(killedAt);
          const { result, requeued } = await reconcile(later);
          // Killed after the last step, the first chunk is done; every other cut leaves it to be queued again.
          const sentOfFirst = await env.DB.prepare(
            "SELECT COUNT(*) AS n FROM deliveries WHERE publication_id = 2 AND chunk = 0 AND status = 'sent'",
          ).first<{ n: number }>();
          const expected = sentOfFirst?.n === first.subscriberIds.length ? messages.slice(1) : messages;
          expect(result.requeued, context).toBe(expected.length);
          expect(
            requeued.map((m) => m.body).sort((a, b) => a.chunk - b.chunk),
            context,
          ).toEqual(expected);
          await drainAt(requeued, bindings, later);
          await expectEveryoneMailedOnce(fake, context);
        }
      }
      // The schedule did cut the loop between claim and send (rows left `sending` by a dead consumer).
      expect(killedAfterClaim).toBeGreaterThan(0);
    });
  }
});

/** A batch of the dead letter queue, handed to the worker's queue handler; reports acks and retries. */
async function deadLetterBatch(messages: { id: string; body: unknown }[]) {
  const outcome = { acked: false, retried: false };
  const batch = {
    queue: "notices-dlq",
    messages: messages.map((m) => ({
      ...m,
      timestamp: new Date(),
      attempts: 1,
      ack: () => {},
      retry: () => {},
    })),
    ackAll: () => {
      outcome.acked = true;
    },
    retryAll: () => {
      outcome.retried = true;
    },
  } as unknown as MessageBatch<unknown>;
  await worker.queue(batch, env);
  return outcome;
}

async function deadLetters(source: string) {
  const { results } = await env.DB.prepare(
    "SELECT publication_id, chunk, subscriber_ids FROM dead_letters WHERE source = ?1 ORDER BY id",
  )
    .bind(source)
    .all<{ publication_id: number; chunk: number; subscriber_ids: string }>();
  return results.map((r) => ({ ...r, subscriber_ids: JSON.parse(r.subscriber_ids) as string[] }));
}

describe("the dead letter queue", () => {
  it("records every dead message with its open rows and alerts the vendor; a re-delivery is recorded once", async () => {
    const { messages, bindings } = await published("re_recovery_dlq");
    const [first, second] = messages;
    if (!first || !second) throw new Error("two chunks expected");
    await drainAt([{ id: "m0", body: first, attempts: 1 }], bindings, T0);
    const batch = [
      { id: "dlq-1", body: first },
      { id: "dlq-2", body: second },
      { id: "dlq-3", body: { something: "else" } },
    ];
    expect(await deadLetterBatch(batch)).toEqual({ acked: true, retried: false });
    expect(await deadLetterBatch(batch)).toEqual({ acked: true, retried: false });
    expect(await deadLetters("dead-letter-queue")).toEqual([
      // The first chunk was sent before its message died: nothing of it is open.
      { publication_id: 2, chunk: 0, subscriber_ids: [] },
      { publication_id: 2, chunk: 1, subscriber_ids: second.subscriberIds },
      { publication_id: 0, chunk: -1, subscriber_ids: [] },
    ]);
    const alerts = await outbox(env.VENDOR_ALERT_EMAIL);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.text).toContain(
      `Publication 2, batch 1: ${second.subscriberIds.length} delivery(ies) still open`,
    );
    expect(alerts[0]?.text).not.toContain("@customer.example");
  });

  it(`keeps the chunk open for the reconciler, which re-queues it ${RECOVERY_MAX_REQUEUES} times, then gives it up and alerts`, async () => {
    const { messages, bindings } = await published("re_recovery_give_up");
    const [first, second] = messages;
    if (!first || !second) throw new Error("two chunks expected");
    await drainAt([{ id: "m0", body: first, attempts: 1 }], bindings, T0);
    await deadLetterBatch([{ id: "dlq-give-up", body: second }]);
    let at = T0;
    for (let i = 1; i <= RECOVERY_MAX_REQUEUES; i++) {
      at = afterGrace(at);
      const { result, requeued } = await reconcile(at);
      expect(result, `re-queue ${i}`).toMatchObject({ requeued: 1, gaveUp: 0 });
      // The first copy dies between claim and send (its rows stay `sending`): its operations are the notice, open,
      // live subscribers, claim, then the send slot (4), which fails. The others are lost on the queue.
      if (i === 1) {
        await deliver(
          requeued,
          { ...bindings, DB: gatedDb(env.DB, (op) => (op >= 4 ? "before" : undefined)) },
          {
            now: () => new Date(at),
          },
        );
      }
    }
    const claimed = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM deliveries WHERE publication_id = 2 AND chunk = 1 AND status = 'sending'",
    ).first<{ n: number }>();
    expect(claimed?.n).toBe(second.subscriberIds.length);

    at = afterGrace(at);
    const { result, requeued } = await reconcile(at);
    expect(result).toMatchObject({ requeued: 0, gaveUp: 1, completed: [2], incomplete: [] });
    expect(requeued).toHaveLength(0);
    const { results } = await env.DB.prepare(
      "SELECT status, COUNT(*) AS n FROM deliveries WHERE publication_id = 2 GROUP BY status ORDER BY status",
    ).all<{ status: string; n: number }>();
    // Claimed rows may have reached the provider: stuck (a person checks), never sent blindly.
    expect(results).toEqual([
      { status: "sent", n: first.subscriberIds.length },
      { status: "stuck", n: second.subscriberIds.length },
    ]);
    const letters = (await deadLetters("reconciler")).map((l) => ({ ...l, subscriber_ids: l.subscriber_ids.sort() }));
    expect(letters).toEqual([{ publication_id: 2, chunk: 1, subscriber_ids: [...second.subscriberIds].sort() }]);
    const alerts = (await outbox(env.VENDOR_ALERT_EMAIL)).filter((e) => e.subject.includes("given up"));
    expect(alerts).toHaveLength(1);
    // Nothing more to do, ever.
    expect((await reconcile(afterGrace(at))).result).toMatchObject({ requeued: 0, gaveUp: 0, incomplete: [] });
  });
});

describe("a fan-out that does not complete", () => {
  async function tick(queue: Queue, at: number) {
    const ctx = createExecutionContext();
    const controller = { scheduledTime: at, cron: "*/15 * * * *", noRetry: () => {} } as ScheduledController;
    worker.scheduled(controller, { ...env, ASSETS: assetsServing(changed), NOTICE_QUEUE: queue }, ctx);
    await waitOnExecutionContext(ctx);
  }
  const health = async () =>
    ((await (await call("/api/health")).json()) as { fanout: { incomplete: number; stalled: number[] } }).fanout;
  const ledger = async () =>
    (
      (await (await call("/api/admin/publications", { headers: admin })).json()) as {
        publications: { id: number; fanout: { complete: boolean; stalled: boolean; stalledAt: string | null } }[];
      }
    ).publications.find((p) => p.id === 2);
  const stallAlerts = async () =>
    (await outbox(env.VENDOR_ALERT_EMAIL)).filter((e) => e.subject.includes("publication 2 is not complete"));

  it("is flagged in the ledger and in GET /api/health an hour after publication, and alerted exactly once", async () => {
    const publishedAt = Date.now() - 2 * 60 * 60_000;
    const { fake, bindings } = await published("re_recovery_stalled", publishedAt);
    // Every message was lost on the queue.
    expect(await health()).toEqual({ incomplete: 1, stalled: [] });
    expect((await ledger())?.fanout).toMatchObject({ complete: false, stalled: true, stalledAt: null });

    const { queue, sent } = capturingQueue();
    await tick(queue, Date.now());
    await tick(queue, Date.now());
    expect(await stallAlerts()).toHaveLength(1);
    expect(await health()).toEqual({ incomplete: 1, stalled: [2] });
    expect((await ledger())?.fanout).toMatchObject({ complete: false, stalled: true, stalledAt: expect.any(String) });
    // The first tick queued both lost chunks again (the second found them inside their new grace period).
    expect(sent.map((m) => m.chunk).sort()).toEqual([0, 1]);

    await drainAt(
      sent.map((body, i) => ({ id: `s${i}`, body, attempts: 1 })),
      bindings,
      Date.now(),
    );
    await expectEveryoneMailedOnce(fake, "stalled");
    await tick(queue, Date.now());
    expect(await health()).toEqual({ incomplete: 0, stalled: [] });
    expect((await ledger())?.fanout).toMatchObject({ complete: true, stalled: false });
    expect(await stallAlerts()).toHaveLength(1);
    expect(sent).toHaveLength(2);
  });
});
