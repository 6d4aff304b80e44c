/**
 * Exactly once under faults (docs/architecture.md "Notices"). Over many seeded random fault schedules, one publication is fanned
 * out while the fake Resend answers 429 with retry-after, 5xx, garbage, drops the connection, accepts a batch and
 * loses the answer, or refuses a batch for good (422); D1 fails before or after a write mid-batch (so the consumer
 * throws after doing part of its work); queue batches arrive twice and two consumers run at once; two publish runs
 * race; subscribers and customers' notice contacts unsubscribe and bounce (webhooks delivered twice) while the fan-out
 * is under way.
 *
 * After draining the queue, for every seed:
 * - exactly one accepted send per (publication, recipient) whose delivery is `sent`, and none for anyone else: the
 *   recipients are the subscribers and the contacts of the customers the change concerns, in the same queue;
 * - nobody who unsubscribed or bounced before their batch was first attempted got anything;
 * - every delivery ends sent, suppressed or dead, and the dead are exactly the recipients of refused batches;
 * - the fake's request-rate limit (= RESEND_MAX_RPS) was never exceeded.
 */
import { env } from "cloudflare:workers";
import { Webhook } from "svix";
import { beforeAll, describe, expect, it } from "vitest";
import { resendAccount } from "../../testing/resend-control.ts";
import type { Reply } from "../../testing/resend-server.ts";
import { d1SlotBook } from "../../worker/db/send-log.ts";
import { sendIntervalMs, slotRule } from "../../worker/notices/engine/rate.ts";
import { publish } from "../../worker/notices/publish.ts";
import { call } from "./helpers.ts";
import {
  capturingQueue,
  deliver,
  documents,
  gatedDb,
  type QueuedMessage,
  resetNoticeTables,
  type SeedCustomer,
  seedCustomers,
} from "./notices-helpers.ts";

const SEEDS = 50;
const SUBSCRIBERS = 150; // two provider batches (100 + 50) of recipients, plus some who are not concerned
const MAX_RPS = 20;
// Customers under contract, three contacts each: a provider batch of their own behind the subscribers' two.
const CUSTOMERS = 12;
const CONTACTS_PER_CUSTOMER = 3;

/** A recipient of the fan-out: a subscriber, or a customer's notice contact. */
interface Recipient {
  id: string;
  email: string;
  contact: boolean;
}

const { base, changed } = await documents();

/** mulberry32: a small seeded PRNG, so a failing seed can be replayed. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n), chance: (p: number) => next() < p };
}

type Rng = ReturnType<typeof prng>;

function randomReplies(rng: Rng): { replies: Reply[]; permanent: boolean } {
  const replies: Reply[] = [];
  let permanent = false;
  const n = rng.int(5);
  for (let i = 0; i < n; i++) {
    const k = rng.int(7);
    if (k === 0) replies.push({ kind: "rate-limit", retryAfterSeconds: 1 + rng.int(3) });
    else if (k === 1) replies.push({ kind: "status", status: 500 });
    else if (k === 2) replies.push({ kind: "garbage", status: 502 });
    else if (k === 3) replies.push({ kind: "drop" });
    else if (k === 4) replies.push({ kind: "deliver-then-drop" });
    else if (k === 5 && !permanent && rng.chance(0.3)) {
      permanent = true;
      replies.push({
        kind: "status",
        status: 422,
        body: { statusCode: 422, name: "validation_error", message: "Injected permanent failure." },
      });
    } else replies.push({ kind: "ok" });
  }
  return { replies, permanent };
}

async function seedContacts(): Promise<Recipient[]> {
  const regions = ["uk", "de", "eea", "ca"];
  const customers: SeedCustomer[] = Array.from({ length: CUSTOMERS }, (_, i) => ({
    id: `CUST-${String(i).padStart(3, "0")}`,
    region: regions[i % regions.length] ?? "uk",
    contractDate: i % 2 === 0 ? "2022-03-01" : "2024-03-01",
    locale: i % 2 === 0 ? "da" : "en",
    contacts: Array.from({ length: CONTACTS_PER_CUSTOMER }, (_, k) => ({
      id: `contact-${String(i).padStart(3, "0")}-${k}`,
      email: `notice${k}@cust${i}.example`,
    })),
  }));
  await seedCustomers(customers);
  return customers.flatMap((c) => c.contacts.map((k) => ({ id: k.id, email: k.email, contact: true })));
}

async function seedSubscribers(): Promise<{ id: string; email: string }[]> {
  await env.DB.prepare("DELETE FROM subscription_tokens").run();
  await env.DB.prepare("DELETE FROM subscribers").run();
  const now = "2026-11-01T10:00:00.000Z";
  const rows = Array.from({ length: SUBSCRIBERS }, (_, i) => {
    const id = `sub-${String(i).padStart(4, "0")}`;
    const locale = i % 2 === 0 ? "da" : "en";
    // Every 10th follows only DPA versions: the sub-processor change is not theirs.
    const topics = i % 10 === 9 ? ["dpa"] : ["subprocessors", "dpa"];
    const regions = i % 3 === 0 ? ["uk"] : i % 3 === 1 ? ["de", "eea"] : [];
    return { id, email: `person${i}@customer${i % 7}.example`, locale, topics, regions };
  });
  await env.DB.batch(
    rows.map((r) =>
      env.DB.prepare(
        "INSERT INTO subscribers (id, email, locale, topics, regions, status, created_at, updated_at, confirmed_at) " +
          "VALUES (?1, ?2, ?3, ?4, ?5, 'confirmed', ?6, ?6, ?6)",
      ).bind(r.id, r.email, r.locale, JSON.stringify(r.topics), JSON.stringify(r.regions), now),
    ),
  );
  return rows;
}

async function bounceTwice(email: string, rng: Rng): Promise<void> {
  const wh = new Webhook(env.RESEND_WEBHOOK_SECRET);
  const id = `msg_${rng.int(1e9)}`;
  const payload = JSON.stringify({
    type: "email.bounced",
    created_at: new Date().toISOString(),
    data: { to: [email] },
  });
  const now = new Date();
  const headers = {
    "Content-Type": "application/json",
    "svix-id": id,
    "svix-timestamp": String(Math.floor(now.getTime() / 1000)),
    "svix-signature": wh.sign(id, now, payload),
  };
  for (let i = 0; i < 2; i++) {
    const res = await call("/api/webhooks/resend", { method: "POST", headers, body: payload });
    expect(res.status).toBe(200);
  }
}

async function statusOf(subscriberId: string): Promise<string | undefined> {
  const row = await env.DB.prepare("SELECT status FROM deliveries WHERE publication_id = 2 AND subscriber_id = ?1")
    .bind(subscriberId)
    .first<{ status: string }>();
  return row?.status;
}

interface SeedReport {
  seed: number;
  rounds: number;
  requests: number;
  sent: number;
  suppressed: number;
  dead: number;
  contactsSent: number;
  contactsDead: number;
}

async function runSeed(
  seed: number,
  subscribers: { id: string; email: string }[],
  contacts: Recipient[],
): Promise<SeedReport> {
  const rng = prng(seed);
  await resetNoticeTables();
  await env.DB.prepare(
    "UPDATE subscribers SET status = 'confirmed', suppressed_at = NULL, suppressed_reason = NULL, unsubscribed_at = NULL",
  ).run();
  await env.DB.prepare("UPDATE customer_contacts SET status = 'active'").run();
  const everyone: Recipient[] = [...subscribers.map((s) => ({ ...s, contact: false })), ...contacts];
  const fake = resendAccount(env.RESEND_BASE_URL, `re_faults_${seed}`);
  await fake.reset();
  await fake.setRateLimit(MAX_RPS);
  const schedule = randomReplies(rng);
  if (schedule.replies.length > 0) await fake.enqueue(...schedule.replies);

  // Baseline, then two publish runs of the change at once: one records it, the other says it is already done.
  const { queue, sent } = capturingQueue();
  const now = new Date("2026-11-23T09:00:00Z");
  await publish({ db: env.DB, queue, document: async () => base, now });
  const runs = await Promise.all([
    publish({ db: env.DB, queue, document: async () => changed, now }),
    publish({ db: env.DB, queue, document: async () => changed, now }),
  ]);
  expect(runs.map((r) => r.status).sort()).toEqual(["published", "unchanged"]);
  const published = runs.find((r) => r.status === "published");
  const recipients = published?.status === "published" ? published.recipients : 0;
  // The change adds a sub-processor for every customer: every contact is a recipient.
  expect(recipients).toBe(SUBSCRIBERS - SUBSCRIBERS / 10 + contacts.length);

  const failAt = new Map<number, "before" | "after">();
  for (let i = rng.int(3); i > 0; i--) failAt.set(rng.int(40), rng.chance(0.5) ? "before" : "after");
  const bindings = {
    DB: gatedDb(env.DB, (op) => failAt.get(op)),
    EMAIL_TRANSPORT: "resend",
    RESEND_API_KEY: fake.apiKey,
    RESEND_MAX_RPS: String(MAX_RPS),
  } as Partial<Env>;

  // Who leaves while the fan-out runs, and whether their notice had already been handed to the provider.
  const leftBeforeClaim = new Set<string>();
  const leftAfterClaim = new Set<string>();
  const leave = async () => {
    const who = everyone[rng.int(everyone.length)];
    if (!who || leftBeforeClaim.has(who.id) || leftAfterClaim.has(who.id)) return;
    const before = await statusOf(who.id);
    const claimed = before === "sending" || before === "sent" || before === "dead";
    if (rng.chance(0.5)) {
      await env.DB.prepare(
        who.contact
          ? "UPDATE customer_contacts SET status = 'unsubscribed', updated_at = ?2 WHERE id = ?1"
          : "UPDATE subscribers SET status = 'unsubscribed', unsubscribed_at = ?2 WHERE id = ?1",
      )
        .bind(who.id, new Date().toISOString())
        .run();
    } else {
      await bounceTwice(who.email, rng);
    }
    (claimed ? leftAfterClaim : leftBeforeClaim).add(who.id);
  };

  let pending: QueuedMessage[] = sent.map((body, i) => ({ id: `m${i}`, body, attempts: 1 }));
  let copies = 0;
  let rounds = 0;
  // The consumer's clock: each round is four minutes later, so the send lease of a consumer that crashed expires.
  let clock = Date.parse("2026-11-23T09:30:00Z");
  const at = { now: () => new Date(clock) };
  while (pending.length > 0) {
    if (++rounds > 40) throw new Error(`seed ${seed}: queue not drained after 40 rounds`);
    clock += 240_000;
    if (rng.chance(0.4)) await leave();
    // At-least-once: sometimes a message is delivered twice, in the same batch or to a second consumer at once.
    const round = [...pending];
    const original = pending[rng.int(pending.length)];
    if (original && rng.chance(0.3)) round.push({ ...original, id: `${original.id}-copy${++copies}` });
    const split = rng.chance(0.5) ? 1 + rng.int(round.length) : round.length;
    const results = await Promise.all(
      [round.slice(0, split), round.slice(split)].filter((b) => b.length > 0).map((b) => deliver(b, bindings, at)),
    );
    const outcomes = new Map(results.flatMap((r) => [...r.outcomes]));
    pending = round.filter((m) => outcomes.get(m.id) !== "ack").map((m) => ({ ...m, attempts: m.attempts + 1 }));
  }

  const state = await fake.state();
  const { results: rows } = await env.DB.prepare(
    "SELECT subscriber_id, email, status, message_id, customer_id, audience FROM deliveries WHERE publication_id = 2",
  ).all<{
    subscriber_id: string;
    email: string | null;
    status: string;
    message_id: string | null;
    customer_id: string | null;
    audience: string | null;
  }>();
  const context = `seed ${seed}`;
  expect(rows.length, context).toBe(recipients);
  expect(state.overLimit ?? 0, `${context}: requests over the rate limit`).toBe(0);

  const deliveredTo = new Map<string, string[]>();
  for (const d of state.delivered) for (const to of d.to) deliveredTo.set(to, [...(deliveredTo.get(to) ?? []), d.id]);
  // Scripted replies are used in order by the requests that reach them (not replays, not refused by the limiter):
  // the request that met the injected 422 is the permanent failure, and its recipients must end dead.
  const reachedScript = state.requests.filter(
    (r) => !["replayed", "conflict", "invalid", "over-limit"].includes(r.reply),
  );
  const permanentAt = schedule.replies.findIndex((r) => r.kind === "status" && r.status === 422);
  const refusedRequest = permanentAt >= 0 ? reachedScript[permanentAt] : undefined;
  const refused = new Set(((refusedRequest?.body ?? []) as { to: string[] }[]).flatMap((e) => e.to));
  let sentCount = 0;
  let suppressed = 0;
  let dead = 0;
  for (const row of rows) {
    const sub = everyone.find((s) => s.id === row.subscriber_id);
    const email = row.email ?? sub?.email ?? "";
    const got = deliveredTo.get(email) ?? [];
    expect(["sent", "suppressed", "dead"], `${context}: ${row.subscriber_id} ended ${row.status}`).toContain(
      row.status,
    );
    if (row.status === "sent") {
      sentCount++;
      expect(got, `${context}: ${email} accepted sends`).toHaveLength(1);
      expect(row.message_id, `${context}: ledger message id`).toBe(got[0]);
    } else {
      expect(got, `${context}: ${email} (${row.status}) must get nothing`).toHaveLength(0);
      if (row.status === "dead") {
        dead++;
        expect(refused.has(email), `${context}: ${email} dead without a refused batch`).toBe(true);
      } else suppressed++;
    }
    if (leftBeforeClaim.has(row.subscriber_id)) {
      expect(row.status, `${context}: left before claim`).toBe("suppressed");
    }
  }
  // Everyone in a refused batch is dead: a permanent failure is reported, never silently dropped.
  for (const email of refused) {
    const sub = everyone.find((s) => s.email === email);
    if (sub) expect(await statusOf(sub.id), `${context}: ${email} in a refused batch`).toBe("dead");
  }
  if (dead > 0) {
    const letters = await env.DB.prepare("SELECT COUNT(*) AS n FROM dead_letters").first<{ n: number }>();
    expect(letters?.n, `${context}: dead letters recorded`).toBeGreaterThan(0);
  }
  // Nobody outside the plan (the DPA-only subscribers) got this notice.
  expect(state.delivered.length, context).toBe(sentCount);
  // Every contact has its row, with its customer and audience; the contacts that left got nothing more.
  const contactRows = rows.filter((r) => contacts.some((c) => c.id === r.subscriber_id));
  expect(contactRows, context).toHaveLength(contacts.length);
  for (const r of contactRows) {
    expect(r.customer_id, context).toBe(`CUST-${r.subscriber_id.slice("contact-".length, "contact-".length + 3)}`);
    expect(JSON.parse(r.audience ?? "{}").region, context).toMatch(/^(uk|de|eea|ca)$/);
  }
  const contactsSent = contactRows.filter((r) => r.status === "sent").length;
  const contactsDead = contactRows.filter((r) => r.status === "dead").length;
  return {
    seed,
    rounds,
    requests: state.requests.length,
    sent: sentCount,
    suppressed,
    dead,
    contactsSent,
    contactsDead,
  };
}

describe("notice fan-out under injected faults", () => {
  let subscribers: { id: string; email: string }[] = [];
  let contacts: Recipient[] = [];
  beforeAll(async () => {
    subscribers = await seedSubscribers();
    contacts = await seedContacts();
  });

  it(`sends exactly once per still-subscribed subscriber over ${SEEDS} seeded fault schedules`, {
    timeout: 600_000,
  }, async () => {
    const reports: SeedReport[] = [];
    for (let seed = 1; seed <= SEEDS; seed++) reports.push(await runSeed(seed, subscribers, contacts));
    // The schedules did exercise the faults they claim to (not every seed passes on the happy path).
    expect(reports.some((r) => r.dead > 0)).toBe(true);
    expect(reports.some((r) => r.suppressed > 0)).toBe(true);
    expect(reports.some((r) => r.rounds > 2)).toBe(true);
    // Every seed reached the contacts: their notices went out, or theirs was the batch the injected 422 refused.
    expect(reports.every((r) => r.contactsSent > 0 || r.contactsDead > 0)).toBe(true);
    console.log(
      `fault schedules: ${reports.length}, requests ${reports.reduce((n, r) => n + r.requests, 0)}, ` +
        `sent ${reports.reduce((n, r) => n + r.sent, 0)}, suppressed ${reports.reduce((n, r) => n + r.suppressed, 0)}, ` +
        `dead ${reports.reduce((n, r) => n + r.dead, 0)}`,
    );
  });
});

describe("the provider's request rate", () => {
  it("slots booked in D1 by many consumers at once are all different and an interval apart", async () => {
    await env.DB.prepare("DELETE FROM send_log").run();
    const rule = slotRule(8);
    const start = Date.parse("2026-11-23T09:00:00Z");
    // Forty bookings at once from as many consumers, all asking for the same moment, some from a clock running late.
    const slots = await Promise.all(
      Array.from({ length: 40 }, (_, i) => d1SlotBook(env.DB, "test").book(start + (i % 3) * 10, rule)),
    );
    const sorted = [...slots].sort((a, b) => a - b);
    expect(new Set(slots).size).toBe(40);
    // The first slot is the first booking's own moment (whichever of the three clocks reached D1 first).
    expect([start, start + 10, start + 20]).toContain(sorted[0]);
    for (let i = 1; i < sorted.length; i++)
      expect((sorted[i] ?? 0) - (sorted[i - 1] ?? 0)).toBeGreaterThanOrEqual(rule.intervalMs);
    // None has left yet, so each counts as leaving at its latest: any nine are a window and a lateness apart.
    for (let i = 8; i < sorted.length; i++)
      expect((sorted[i] ?? 0) - (sorted[i - 8] ?? 0)).toBeGreaterThanOrEqual(rule.windowMs + rule.latenessMs);
    // A booking after a pause starts from its own clock, not from the last slot: no burst of catch-up slots.
    const later = sorted.at(-1) ?? 0;
    expect(await d1SlotBook(env.DB, "test").book(later + 60_000, rule)).toBe(later + 60_000);
  });

  it("a slot is booked a window after the recorded departure of the one rps back; a slot given back counts for nothing", async () => {
    await env.DB.prepare("DELETE FROM send_log").run();
    const rule = slotRule(8);
    const start = Date.parse("2026-11-23T10:00:00Z");
    const book = d1SlotBook(env.DB, "departures");
    const slots: number[] = [];
    for (let i = 0; i < 8; i++) slots.push(await book.book(start, rule));
    const first = slots[0] ?? 0;
    // Not recorded: the first slot counts as leaving at its latest.
    const pessimistic = Math.max((slots[7] ?? 0) + rule.intervalMs, first + rule.latenessMs + rule.windowMs);
    await book.departed(first, first + 3);
    const ninth = await book.book(start, rule);
    expect(ninth).toBe(Math.max((slots[7] ?? 0) + rule.intervalMs, first + 3 + rule.windowMs));
    expect(ninth).toBeLessThan(pessimistic);
    // Given back: the next booking gets the same slot, as if the ninth had never been booked.
    await book.release(ninth);
    expect(await book.book(start, rule)).toBe(ninth);
  });

  it("three consumers at once stay under RESEND_MAX_RPS: one budget in D1 shared by every consumer", {
    timeout: 60_000,
  }, async () => {
    const subscribers = await seedSubscribers();
    await resetNoticeTables();
    const { queue } = capturingQueue();
    const now = new Date("2026-11-23T09:00:00Z");
    await publish({ db: env.DB, queue, document: async () => base, now });
    await publish({ db: env.DB, queue, document: async () => changed, now });
    const fake = resendAccount(env.RESEND_BASE_URL, "re_rate_shared");
    await fake.reset();
    const rps = 8;
    await fake.setRateLimit(rps);
    // 24 small chunks: far more calls than one second allows, sent by three consumers in parallel.
    const concerned = subscribers.filter((_, i) => i % 10 !== 9).slice(0, 24 * 5);
    const messages: QueuedMessage[] = Array.from({ length: 24 }, (_, i) => ({
      id: `r${i}`,
      body: { publicationId: 2, chunk: 1000 + i, subscriberIds: concerned.slice(i * 5, i * 5 + 5).map((s) => s.id) },
      attempts: 1,
    }));
    const bindings = {
      EMAIL_TRANSPORT: "resend",
      RESEND_API_KEY: fake.apiKey,
      RESEND_MAX_RPS: String(rps),
    } as Partial<Env>;
    const results = await Promise.all(
      [0, 1, 2].map((k) =>
        deliver(
          messages.filter((_, i) => i % 3 === k),
          bindings,
        ),
      ),
    );
    const state = await fake.state();
    expect(state.overLimit).toBe(0);
    expect(results.flatMap((r) => [...r.outcomes.values()])).toEqual(Array(24).fill("ack"));
    expect(state.requests).toHaveLength(24);
    expect(state.delivered).toHaveLength(120);
  });

  it("a 429 is waited out in place while the rest of the batch has calls enough to fill the wait, and on the queue once it has not", {
    timeout: 60_000,
  }, async () => {
    const subscribers = await seedSubscribers();
    const concerned = subscribers.filter((_, i) => i % 10 !== 9);
    const fake = resendAccount(env.RESEND_BASE_URL, "re_rate_in_place");
    const bindings = { EMAIL_TRANSPORT: "resend", RESEND_API_KEY: fake.apiKey, RESEND_MAX_RPS: "20" } as Partial<Env>;
    const chunks = (n: number, from: number): QueuedMessage[] =>
      Array.from({ length: n }, (_, i) => ({
        id: `p${from + i}`,
        body: {
          publicationId: 2,
          chunk: 2000 + from + i,
          subscriberIds: concerned.slice((from + i) * 3, (from + i) * 3 + 3).map((s) => s.id),
        },
        attempts: 1,
      }));
    // The calls that fill a one-second wait at 20 a second: the others under way and those left to start.
    const filling = Math.ceil(1000 / sendIntervalMs(20));
    for (const [messages, inPlace] of [
      // The first call's 429 is waited out while the rest of the batch sends (two calls to spare, in case others
      // are done before the 429 comes back).
      [chunks(filling + 3, 0), true],
      // One call short of filling the wait: the batch does not wait for the one refused.
      [chunks(filling, 0), false],
      // Two messages, both started: nothing would use the wait.
      [chunks(2, 0), false],
    ] as const) {
      await resetNoticeTables();
      const { queue } = capturingQueue();
      const now = new Date("2026-11-23T09:00:00Z");
      await publish({ db: env.DB, queue, document: async () => base, now });
      await publish({ db: env.DB, queue, document: async () => changed, now });
      await fake.reset();
      await fake.enqueue({ kind: "rate-limit", retryAfterSeconds: 1 });
      const { outcomes } = await deliver(messages, bindings);
      const state = await fake.state();
      const refused = state.requests[0]?.idempotencyKey;
      expect(state.requests.map((r) => r.reply)[0]).toBe("rate-limit");
      const retriedInPlace = state.requests.filter((r) => r.idempotencyKey === refused).length === 2;
      expect(retriedInPlace).toBe(inPlace);
      const handedBack = [...outcomes.values()].filter((o) => o === "retry").length;
      expect(handedBack).toBe(inPlace ? 0 : 1);
      expect([...outcomes.values()].filter((o) => o === "ack")).toHaveLength(messages.length - handedBack);
    }
  });
});
