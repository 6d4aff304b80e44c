/**
 * Webhook delivery (README "Webhooks"): each publication reaches every active endpoint it concerns exactly once as the
 * receiver sees it (after de-duplication by webhook-id), through the real queue consumer and the real D1 ledger,
 * against the local receiver in its own server that verifies every call with the `standardwebhooks` library and
 * injects faults: 500 twice then 200, a timeout, 429 with Retry-After, a connection reset, a slow answer. Retries keep
 * the webhook-id; other 4xx are final; retries stop 24 h after the first attempt; an endpoint whose every attempt
 * failed for three publications in a row is disabled and its owner emailed. A consumer killed at any D1 step neither
 * loses nor duplicates an event. The ledger clock is passed in (`now`): nothing sleeps but the 1 s timeout fault.
 */
import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { afterEach, beforeEach, describe, expect, inject, it, vi } from "vitest";
import type { AnnexCChangedEvent } from "../../domain/webhook-event.ts";
import { webhookReceiver } from "../../testing/webhook-receiver-control.ts";
import worker from "../../worker/index.ts";
import {
  DISABLE_AFTER_FAILED_PUBLICATIONS,
  WEBHOOK_LEASE_MS,
  WEBHOOK_RETRY_WINDOW_MS,
  webhookBackoffSeconds,
} from "../../worker/webhooks/deliver.ts";
import type { WebhookMessage } from "../../worker/webhooks/plan.ts";
import { reconcileWebhooks } from "../../worker/webhooks/recovery.ts";
import { call, type OutboxEmail, outbox, tokenFrom } from "./helpers.ts";
import { gatedDb } from "./notices-helpers.ts";
import {
  addEndpoint,
  addSubscriber,
  attemptsOf,
  deliverWebhooks,
  documentWith,
  drainWebhooks,
  ledger,
  publishWithWebhooks,
  resetWebhookTables,
} from "./webhooks-helpers.ts";

const base = inject("webhookReceiverUrl");
const ADMIN = { Authorization: `Bearer ${env.ADMIN_TOKEN}` };

let run = 0;
/** A receiver of its own per test and endpoint (the receiver server outlives the tests). */
async function endpoint(
  name: string,
  subscriberId: string,
  options: Parameters<typeof addEndpoint>[3] = {},
): Promise<{ id: string; secret: string; receiver: ReturnType<typeof webhookReceiver> }> {
  const receiver = webhookReceiver(base, `${name}-${++run}`);
  await receiver.reset();
  const id = `ep_${name}`;
  const secret = await addEndpoint(id, subscriberId, receiver.url, options);
  await receiver.setSecrets(secret);
  return { id, secret, receiver };
}

beforeEach(async () => {
  await resetWebhookTables();
});

describe("one event per endpoint concerned, exactly once as the receiver sees it", () => {
  it("survives 500 twice, a timeout, 429 with Retry-After, a reset and a slow answer, with every message twice", {
    timeout: 60_000,
  }, async () => {
    await addSubscriber("sub-a", { regions: ["uk"] });
    await addSubscriber("sub-b", { regions: [] });
    const faults = {
      flaky: [
        { kind: "status", status: 500 },
        { kind: "status", status: 500 },
      ],
      hangs: [{ kind: "hang" }],
      limited: [{ kind: "status", status: 429, retryAfter: "7" }],
      reset: [{ kind: "reset" }],
      slow: [{ kind: "slow", ms: 300 }],
      calm: [],
    } as const;
    const endpoints = new Map<string, Awaited<ReturnType<typeof endpoint>>>();
    for (const [name, list] of Object.entries(faults)) {
      const e = await endpoint(name, name === "calm" ? "sub-b" : "sub-a", name === "slow" ? { regions: ["de"] } : {});
      await e.receiver.faults(...list);
      endpoints.set(name, e);
    }
    // Not active yet (its test event was never answered) and disabled: no event.
    await endpoint("pending", "sub-a", { status: "pending" });
    await endpoint("disabled", "sub-a", { status: "disabled" });

    const clock = { ms: Date.now() };
    const { sequence, messages } = await publishWithWebhooks(await documentWith(1), new Date(clock.ms));
    expect(messages.map((m) => m.endpointId).sort()).toEqual([...endpoints.values()].map((e) => e.id).sort());
    const { delays } = await drainWebhooks(messages, clock, { copies: true });
    // Retry-After was honoured; the others waited for the back-off.
    expect(delays).toContain(7);
    expect(delays).toContain(webhookBackoffSeconds(1));

    const rows = await ledger(sequence);
    expect(rows.size).toBe(endpoints.size);
    for (const [name, e] of endpoints) {
      const row = rows.get(e.id);
      const state = await e.receiver.state();
      expect(row?.status, name).toBe("delivered");
      // Exactly once as the receiver's system saw it: one id, the ledger's, with the frozen payload.
      expect(Object.keys(state.unique), name).toEqual([row?.message_id]);
      expect(state.unique[row?.message_id ?? ""], name).toEqual(JSON.parse(row?.payload ?? "null"));
      expect(state.rejected, name).toBe(0);
      // Every call carried the same webhook-id; each fault cost one attempt, and every attempt is recorded.
      expect(new Set(state.calls.map((c) => c.id)), name).toEqual(new Set([row?.message_id]));
      const attempts = await attemptsOf(row?.message_id ?? "");
      // A slow answer is no fault: it is delivered on the first attempt.
      const failing = faults[name as keyof typeof faults].filter((f) => f.kind !== "slow");
      expect(
        attempts.map((a) => a.outcome),
        name,
      ).toEqual([...failing.map(() => "retry"), "delivered"]);
      expect(row?.attempts, name).toBe(attempts.length);
    }
    const flaky = await attemptsOf(rows.get("ep_flaky")?.message_id ?? "");
    expect(flaky.map((a) => a.http_status)).toEqual([500, 500, 200]);
    expect(flaky[0]?.response_excerpt).toBe("scripted 500");
    const hung = await attemptsOf(rows.get("ep_hangs")?.message_id ?? "");
    expect(hung[0]).toMatchObject({ http_status: null, error: "no answer within 1 s" });
    const reset = await attemptsOf(rows.get("ep_reset")?.message_id ?? "");
    expect(reset[0]?.error).toMatch(/^network error/);

    // The event speaks for the endpoint's audience: the subscriber's regions unless it names its own.
    const event = (id: string) => JSON.parse(rows.get(id)?.payload ?? "{}") as AnnexCChangedEvent;
    expect(event("ep_flaky").data.audience).toEqual({ regions: ["uk"], cohort: null });
    expect(event("ep_slow").data.audience).toEqual({ regions: ["de"], cohort: null });
    expect(event("ep_calm").data).toMatchObject({ publicationId: sequence, audience: { regions: [], cohort: null } });
    expect(event("ep_calm").type).toBe("annex-c.changed");
  });

  it("a publish run that stopped before planning is planned by the reconciler, once, and a lost message is queued again", async () => {
    await addSubscriber("sub-a");
    const e = await endpoint("late", "sub-a");
    const now = new Date();
    const { sequence, messages } = await publishWithWebhooks(await documentWith(1), now, { webhooks: false });
    expect(messages).toEqual([]);
    const queued: WebhookMessage[] = [];
    const queue = {
      sendBatch: async (batch: Iterable<MessageSendRequest<WebhookMessage>>) => {
        for (const m of batch) queued.push(m.body);
      },
    } as unknown as Queue<WebhookMessage>;
    const deps = { db: env.DB, queue, baseUrl: env.PUBLIC_BASE_URL };
    expect(await reconcileWebhooks({ ...deps, now })).toEqual({ planned: [sequence], requeued: 0 });
    expect(queued).toEqual([{ publicationId: sequence, endpointId: e.id }]);
    // Planned once: a second run plans nothing and, inside the grace period, queues nothing.
    expect(await reconcileWebhooks({ ...deps, now })).toEqual({ planned: [], requeued: 0 });
    const messageId = (await ledger(sequence)).get(e.id)?.message_id;
    // The message is lost: past the grace period the open delivery is queued again, and delivered once.
    const later = new Date(now.getTime() + 16 * 60_000);
    expect(await reconcileWebhooks({ ...deps, now: later })).toEqual({ planned: [], requeued: 1 });
    await drainWebhooks(queued.slice(1), { ms: later.getTime() });
    expect((await ledger(sequence)).get(e.id)).toMatchObject({ status: "delivered", message_id: messageId });
    expect(Object.keys((await e.receiver.state()).unique)).toEqual([messageId]);
    expect(await reconcileWebhooks({ ...deps, now: new Date(later.getTime() + 60 * 60_000) })).toEqual({
      planned: [],
      requeued: 0,
    });
  });
});

describe("a consumer killed mid-send", () => {
  // The D1 operations of one attempt: read the row (0), take the lease (1), record the attempt and verdict (2).
  const steps = [0, 1, 2].flatMap((op) => (["before", "after"] as const).map((mode) => ({ op, mode })));

  it.each(steps)(
    "at D1 step $op ($mode the statement) neither loses nor duplicates the event",
    async ({ op, mode }) => {
      await addSubscriber("sub-a");
      const e = await endpoint(`crash-${op}-${mode}`, "sub-a");
      const clock = { ms: Date.now() };
      const { sequence, messages } = await publishWithWebhooks(await documentWith(1), new Date(clock.ms));
      const crashing = gatedDb(env.DB, (n) => (n === op ? mode : undefined));
      const first = await deliverWebhooks(
        messages.map((body, i) => ({ id: `m${i}`, body, attempts: 1 })),
        () => new Date(clock.ms),
        { DB: crashing },
      );
      // The consumer caught the storage failure and asked for the message again, after the lease.
      expect([...first.values()]).toEqual([{ kind: "retry", delaySeconds: WEBHOOK_LEASE_MS / 1000 }]);
      clock.ms += WEBHOOK_LEASE_MS;
      await drainWebhooks(messages, clock);
      const row = (await ledger(sequence)).get(e.id);
      expect(row?.status).toBe("delivered");
      const state = await e.receiver.state();
      expect(Object.keys(state.unique)).toEqual([row?.message_id]);
      // A crash after the send but before its record was written (op 2, before) made the retry send again under the
      // same id: the receiver ignored the copy. Written but unacknowledged (op 2, after): the retry finds it delivered.
      expect(state.duplicates).toBe(op === 2 && mode === "before" ? 1 : 0);
      expect(state.calls).toHaveLength(op === 2 && mode === "before" ? 2 : 1);
    },
  );

  it("two consumers at once never send one delivery twice: the second finds it leased", async () => {
    await addSubscriber("sub-a");
    const e = await endpoint("twice", "sub-a");
    await e.receiver.faults({ kind: "slow", ms: 300 });
    const clock = { ms: Date.now() };
    const { messages } = await publishWithWebhooks(await documentWith(1), new Date(clock.ms));
    const batch = messages.map((body, i) => ({ id: `m${i}`, body, attempts: 1 }));
    const [a, b] = await Promise.all([
      deliverWebhooks(batch, () => new Date(clock.ms)),
      deliverWebhooks(batch, () => new Date(clock.ms)),
    ]);
    const outcomes = [...(a?.values() ?? []), ...(b?.values() ?? [])].map((o) => o.kind).sort();
    expect(outcomes).toEqual(["ack", "retry"]);
    expect((await e.receiver.state()).calls).toHaveLength(1);
  });
});

describe("verification on the delivery path", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("a delivery forged or replayed more than 5 minutes later fails the receiver's verification", async () => {
    await addSubscriber("sub-a");
    const e = await endpoint("verify", "sub-a");
    const clock = { ms: Date.now() };
    const { sequence, messages } = await publishWithWebhooks(await documentWith(1), new Date(clock.ms));
    const sent: { body: string; headers: Record<string, string> }[] = [];
    const capture: typeof fetch = async (input, init) => {
      const headers = Object.fromEntries(new Headers(init?.headers).entries());
      sent.push({ body: String(init?.body), headers });
      return fetch(input, init);
    };
    // The real delivery, captured on its way out as a thief on the path would see it.
    await deliverWebhooks(
      messages.map((body, i) => ({ id: `m${i}`, body, attempts: 1 })),
      () => new Date(clock.ms),
      {},
      capture,
    );
    const row = (await ledger(sequence)).get(e.id);
    expect(row?.status).toBe("delivered");
    const captured = sent[0];
    if (!captured) throw new Error("nothing captured");
    const forged = captured.body.replace('"publicationId":', '"publicationId":9');
    const forgedAnswer = await fetch(e.receiver.url, { method: "POST", headers: captured.headers, body: forged });
    expect(forgedAnswer.status).toBe(401);
    // A replay with a fresh timestamp put in by hand no longer matches the signature.
    const restamped = { ...captured.headers, "webhook-timestamp": String(Math.floor(Date.now() / 1000) + 1) };
    const restampedAnswer = await fetch(e.receiver.url, { method: "POST", headers: restamped, body: captured.body });
    expect(restampedAnswer.status).toBe(401);
    expect((await e.receiver.state()).rejected).toBe(2);
    expect(captured.headers["webhook-id"]).toBe(row?.message_id);
    // Replayed 6 minutes later: the library a receiver uses refuses the old timestamp.
    expect(new Webhook(e.secret).verify(captured.body, captured.headers)).toEqual(JSON.parse(row?.payload ?? ""));
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 6 * 60_000);
    expect(() => new Webhook(e.secret).verify(captured.body, captured.headers)).toThrow(/too old/);
    vi.useRealTimers();
    expect(Object.keys((await e.receiver.state()).unique)).toEqual([row?.message_id]);
  });

  it("an endpoint whose receiver refuses our signature (another secret) fails at once: 401 is final", async () => {
    await addSubscriber("sub-a");
    const e = await endpoint("wrong-secret", "sub-a");
    await e.receiver.setSecrets("whsec_dGhpcy1pcy1ub3QtdGhlLWVuZHBvaW50cy1zZWNyZXQ=");
    const clock = { ms: Date.now() };
    const { sequence, messages } = await publishWithWebhooks(await documentWith(1), new Date(clock.ms));
    const { rounds } = await drainWebhooks(messages, clock);
    expect(rounds).toBe(1);
    const row = (await ledger(sequence)).get(e.id);
    expect(row).toMatchObject({ status: "failed", attempts: 1, detail: "refused for good: HTTP 401" });
    expect((await e.receiver.state()).unique).toEqual({});
  });
});

describe("final answers, the 24 hours and disabling", () => {
  it("another 4xx is final: one attempt, failed, acked", async () => {
    await addSubscriber("sub-a");
    const e = await endpoint("gone", "sub-a");
    await e.receiver.faults({ kind: "status", status: 410 });
    const clock = { ms: Date.now() };
    const { sequence, messages } = await publishWithWebhooks(await documentWith(1), new Date(clock.ms));
    const { rounds } = await drainWebhooks(messages, clock);
    expect(rounds).toBe(1);
    const row = (await ledger(sequence)).get(e.id);
    expect(row).toMatchObject({ status: "failed", attempts: 1, detail: "refused for good: HTTP 410" });
    expect((await attemptsOf(row?.message_id ?? "")).map((a) => [a.http_status, a.outcome])).toEqual([[410, "final"]]);
  });

  it("an endpoint removed, or whose owner unsubscribed, after the plan gets nothing more", async () => {
    await addSubscriber("sub-a");
    await addSubscriber("sub-b");
    const removed = await endpoint("removed", "sub-a");
    const left = await endpoint("left", "sub-b");
    const clock = { ms: Date.now() };
    const { sequence, messages } = await publishWithWebhooks(await documentWith(1), new Date(clock.ms));
    expect(messages).toHaveLength(2);
    await env.DB.prepare("DELETE FROM webhook_endpoints WHERE id = ?1").bind(removed.id).run();
    await env.DB.prepare("UPDATE subscribers SET status = 'unsubscribed' WHERE id = 'sub-b'").run();
    await drainWebhooks(messages, clock);
    const rows = await ledger(sequence);
    expect(rows.get(removed.id)).toMatchObject({ status: "failed", attempts: 0, detail: "not sent: endpoint removed" });
    expect(rows.get(left.id)).toMatchObject({
      status: "failed",
      attempts: 0,
      detail: "not sent: subscription unsubscribed",
    });
    expect((await removed.receiver.state()).calls).toEqual([]);
    expect((await left.receiver.state()).calls).toEqual([]);
  });

  it(`retries for 24 h, then fails; ${DISABLE_AFTER_FAILED_PUBLICATIONS} failed publications in a row disable the endpoint and email its owner`, {
    timeout: 120_000,
  }, async () => {
    await addSubscriber("sub-a", { locale: "da" });
    const e = await endpoint("down", "sub-a");
    const clock = { ms: Date.now() };
    const down = async () => {
      await e.receiver.faults(...Array.from({ length: 60 }, () => ({ kind: "status" as const, status: 503 })));
    };
    const failOnce = async (n: number) => {
      await down();
      const { sequence, messages } = await publishWithWebhooks(await documentWith(n), new Date(clock.ms));
      await drainWebhooks(messages, clock);
      const row = (await ledger(sequence)).get(e.id);
      return { sequence, row, attempts: await attemptsOf(row?.message_id ?? "") };
    };
    const endpointRow = () =>
      env.DB.prepare("SELECT status, failed_publications, disabled_reason FROM webhook_endpoints WHERE id = ?1")
        .bind(e.id)
        .first<{ status: string; failed_publications: number; disabled_reason: string | null }>();

    const first = await failOnce(1);
    expect(first.row?.status).toBe("failed");
    expect(first.row?.detail).toMatch(/^gave up 24 h after the first attempt/);
    const times = first.attempts.map((a) => Date.parse(a.attempted_at));
    const span = (times.at(-1) ?? 0) - (times[0] ?? 0);
    // Back-off 30 s, 1, 2, 4 … minutes, at most an hour apart: the last attempt is within 24 h, the next would not be.
    expect(span).toBeLessThanOrEqual(WEBHOOK_RETRY_WINDOW_MS);
    expect(span).toBeGreaterThan(WEBHOOK_RETRY_WINDOW_MS - 3_600_000);
    expect(first.attempts.every((a) => a.http_status === 503 && a.outcome === "retry")).toBe(true);
    const [t0 = 0, t1 = 0, t2 = 0] = times;
    expect([t1 - t0, t2 - t1]).toEqual([30_000, 60_000]);
    expect(await endpointRow()).toMatchObject({ status: "active", failed_publications: 1 });

    // A delivered publication starts the count again.
    await e.receiver.reset();
    await e.receiver.setSecrets(e.secret);
    const ok = await publishWithWebhooks(await documentWith(2), new Date(clock.ms));
    await drainWebhooks(ok.messages, clock);
    expect((await ledger(ok.sequence)).get(e.id)?.status).toBe("delivered");
    expect(await endpointRow()).toMatchObject({ status: "active", failed_publications: 0 });

    await failOnce(3);
    await failOnce(4);
    expect(await endpointRow()).toMatchObject({ status: "active", failed_publications: 2 });
    expect(await outbox()).toHaveLength(0);
    await failOnce(5);
    expect(await endpointRow()).toMatchObject({
      status: "disabled",
      failed_publications: 3,
      disabled_reason: "every attempt failed for 3 publications in a row",
    });
    // The owner is told, in their language, with a working manage link and one-click unsubscribe.
    const emails = await outbox();
    expect(emails).toHaveLength(1);
    expect(emails[0]?.to).toBe("sub-a@customer.example");
    expect(emails[0]?.subject).toMatch(/webhook-endpoint er slået fra/);
    expect(emails[0]?.text).toContain(e.receiver.url);
    expect(emails[0]?.text).toMatch(/\/da\/subscription\/manage\?token=/);
    expect(emails[0]?.headers["List-Unsubscribe-Post"]).toBe("List-Unsubscribe=One-Click");
    const token = tokenFrom(emails[0] as OutboxEmail, "/da/subscription/manage");
    expect((await call("/api/subscriptions/me", { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);

    // A disabled endpoint is told nothing more.
    const after = await publishWithWebhooks(await documentWith(6), new Date(clock.ms));
    expect(after.messages).toEqual([]);
    expect((await ledger(after.sequence)).size).toBe(0);
  });
});

describe("the queue consumer and the admin ledger", () => {
  it("the worker's queue handler sends `webhooks` batches to the webhook consumer, retrying with the ledger's delay", async () => {
    await addSubscriber("sub-a");
    const e = await endpoint("dispatch", "sub-a");
    await e.receiver.faults({ kind: "status", status: 429, retryAfter: "120" });
    const { sequence, messages } = await publishWithWebhooks(await documentWith(1), new Date());
    const outcome: string[] = [];
    const batch = (body: unknown) =>
      ({
        queue: "webhooks",
        messages: [
          {
            id: "q1",
            timestamp: new Date(),
            body,
            attempts: 1,
            ack: () => outcome.push("ack"),
            retry: (o?: { delaySeconds?: number }) => outcome.push(`retry ${o?.delaySeconds}`),
          },
        ],
        ackAll: () => {},
        retryAll: () => {},
      }) as unknown as MessageBatch<unknown>;
    await worker.queue(batch(messages[0]), env);
    expect(outcome).toEqual(["retry 120"]);
    // Not due yet: the message goes back with what is left of the wait, nothing is sent.
    await worker.queue(batch(messages[0]), env);
    expect(outcome[1]).toMatch(/^retry 1[12]\d$/);
    expect((await e.receiver.state()).calls).toHaveLength(1);
    // A message that is not a delivery is dropped, not retried for ever.
    await worker.queue(batch({ hello: "world" }), env);
    expect(outcome[2]).toBe("ack");

    const list = await call("/api/admin/publications", { headers: ADMIN });
    const body = (await list.json()) as {
      publications: { id: number; webhookDeliveries: Record<string, number>; webhooks: string }[];
    };
    const pub = body.publications.find((p) => p.id === sequence);
    expect(pub?.webhookDeliveries).toEqual({ pending: 1 });
    const detail = await call(pub?.webhooks ?? "", { headers: ADMIN });
    expect(detail.status).toBe(200);
    const { deliveries } = (await detail.json()) as {
      deliveries: { endpointId: string; status: string; attemptLog: { httpStatus: number; outcome: string }[] }[];
    };
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]).toMatchObject({ endpointId: e.id, status: "pending" });
    expect(deliveries[0]?.attemptLog).toMatchObject([{ httpStatus: 429, outcome: "retry" }]);
    expect(JSON.stringify(deliveries)).not.toContain("payload");
    expect((await call(`/api/admin/publications/${sequence}/webhooks`)).status).toBe(401);
    expect((await call("/api/admin/publications/999/webhooks", { headers: ADMIN })).status).toBe(404);
  });
});
