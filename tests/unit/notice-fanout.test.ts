import { describe, expect, it } from "vitest";
import type { AnnexCDocument, AnnexCEntry } from "../../domain/annex.ts";
import { buildNotice, IDEMPOTENCY_WINDOW_MS } from "../../domain/notice.ts";
import type { Vendor } from "../../domain/schema/vendor.ts";
import type { OutgoingEmail } from "../../emails/message.ts";
import { memoryDeliveryStore } from "../../testing/memory-store.ts";
import {
  type BatchOutcome,
  backoffSeconds,
  type FanoutDeps,
  type FanoutMessage,
  IN_PLACE_RETRIES,
  type LiveSubscriber,
  processMessage,
  SEND_LEASE_MS,
} from "../../worker/notices/engine/fanout.ts";
import { memoryRateLimiter, type SendPort, transportSender } from "../../worker/notices/engine/rate.ts";
import { noticeToken } from "../../worker/notices/engine/tokens.ts";
import { annexEntry } from "./annex-entry.ts";

// The send loop (worker/notices/engine/fanout.ts) with the in-memory store and a scripted provider: the exactly-once rules
// of docs/architecture.md "Notices" one by one. The same loop runs on D1 in tests/worker/notices-faults.test.ts.

function entry(id: string): AnnexCEntry {
  return annexEntry(id, { since: "2027-01-04" });
}

function doc(ids: string[]): AnnexCDocument {
  return {
    format: "annex-c/1",
    fingerprint: `fp-${ids.join("+")}`,
    vendor: { name: "V", legalEntity: "V A/S", registration: "CVR 1" },
    snapshot: { entries: ids.map(entry), dpaVersions: [] },
    regions: [],
    cohorts: [],
    changes: [],
  };
}

const notice = buildNotice(doc(["a"]), doc(["a", "b"]), { publicationId: "2", sequence: 2, publishedAt: "x" });
const vendor = {
  name: "V",
  legalEntity: "V A/S",
  privacyContact: "privacy@v.example",
  objectionWorkingDays: 10,
  workingDayCalendar: { country: "DK", extraClosedDays: [] },
  regions: [],
  cohorts: [],
} as unknown as Vendor;

function subscribers(n: number): LiveSubscriber[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `s${i}`,
    email: `s${i}@example.com`,
    status: "confirmed",
    locale: i % 2 ? "en" : "da",
    topics: ["subprocessors"],
    regions: [],
  }));
}

interface Call {
  key: string;
  emails: OutgoingEmail[];
  /** The consumer's clock when the call left. */
  at: number;
}

function setup(script: BatchOutcome[], n = 3) {
  const store = memoryDeliveryStore(subscribers(n));
  const calls: Call[] = [];
  let clock = Date.parse("2026-11-23T09:00:00Z");
  const deps: FanoutDeps = {
    store,
    sender: {
      async sendBatch(emails, key, gate) {
        (await gate?.())?.();
        calls.push({ key, emails: structuredClone([...emails]), at: clock });
        return script.shift() ?? { kind: "accepted", messageIds: emails.map((_, i) => `id-${calls.length}-${i}`) };
      },
    },
    limiter: memoryRateLimiter(1000),
    notice: async () => notice,
    vendor,
    baseUrl: "https://portal.example",
    manageToken: (pub, id, contact) => noticeToken("unit-secret", pub, id, contact),
    now: () => new Date(clock),
    maxAttempts: 4,
    // A retry-after waited out in place moves the consumer's clock, not the test's.
    sleep: async (ms) => {
      clock += ms;
    },
  };
  const message: FanoutMessage = { publicationId: 2, chunk: 0, subscriberIds: subscribers(n).map((s) => s.id) };
  return {
    store,
    calls,
    deps,
    message,
    advance: (ms: number) => {
      clock += ms;
    },
  };
}

const statuses = (store: ReturnType<typeof memoryDeliveryStore>) =>
  [...store.deliveries.values()].map((d) => d.status).sort();

describe("processMessage", () => {
  it("sends one batch call and records every delivery as sent; the same message again sends nothing", async () => {
    const { store, calls, deps, message } = setup([]);
    expect(await processMessage(deps, message, 1)).toMatchObject({ action: "ack", sent: 3 });
    expect(await processMessage(deps, message, 1)).toMatchObject({ action: "ack", sent: 0 });
    expect(calls).toHaveLength(1);
    expect(statuses(store)).toEqual(["sent", "sent", "sent"]);
    expect([...store.deliveries.values()].map((d) => d.messageId)).toEqual(["id-1-0", "id-1-1", "id-1-2"]);
  });

  it("an unknown outcome is retried in place, in the next slot, with the same key and the same emails", async () => {
    const { store, calls, deps, message } = setup([{ kind: "unknown", detail: "network error" }]);
    expect(await processMessage(deps, message, 1)).toMatchObject({ action: "ack", sent: 3 });
    expect(calls).toHaveLength(2);
    expect(calls[1]?.key).toBe(calls[0]?.key);
    expect(JSON.stringify(calls[1]?.emails)).toBe(JSON.stringify(calls[0]?.emails));
    expect(statuses(store)).toEqual(["sent", "sent", "sent"]);
  });

  it("a 429 is retried in place after the provider's retry-after, under the same key", async () => {
    const { calls, deps, message } = setup([{ kind: "rate-limited", retryAfterSeconds: 2, detail: "429" }]);
    expect(await processMessage(deps, message, 1)).toMatchObject({ action: "ack", sent: 3 });
    expect(calls.map((c) => c.key)).toEqual([calls[0]?.key, calls[0]?.key]);
    expect((calls[1]?.at ?? 0) - (calls[0]?.at ?? 0)).toBe(2_000);
  });

  it("after the in-place retries the batch goes back to the queue; the queue's retry sends the same key", async () => {
    const unknown: BatchOutcome = { kind: "unknown", detail: "network error" };
    const { calls, deps, message, advance } = setup(Array(1 + IN_PLACE_RETRIES).fill(unknown));
    expect(await processMessage(deps, message, 1)).toMatchObject({ action: "retry", delaySeconds: backoffSeconds(1) });
    expect(calls).toHaveLength(1 + IN_PLACE_RETRIES);
    advance(60_000); // a minute later: the deadline in the emails must not move with the clock
    expect(await processMessage(deps, message, 2)).toMatchObject({ action: "ack", sent: 3 });
    expect(calls).toHaveLength(2 + IN_PLACE_RETRIES);
    expect(new Set(calls.map((c) => c.key)).size).toBe(1);
    expect(new Set(calls.map((c) => JSON.stringify(c.emails))).size).toBe(1);
  });

  it("a 429 when nothing else is left to start goes back to the queue with the retry-after; the queue's retry sends the same key", async () => {
    const { store, calls, deps, message } = setup([{ kind: "rate-limited", retryAfterSeconds: 1, detail: "429" }]);
    let slept = 0;
    deps.sleep = async () => {
      slept++;
    };
    deps.mayWaitInPlace = () => false;
    expect(await processMessage(deps, message, 1)).toEqual({ action: "retry", delaySeconds: 1, reason: "429" });
    expect(slept).toBe(0);
    expect(calls).toHaveLength(1);
    // The lease was given back with the attempt: the queue's retry sends at once, under the same key.
    expect(await processMessage(deps, message, 2)).toMatchObject({ action: "ack", sent: 3 });
    expect(calls.map((c) => c.key)).toEqual([calls[0]?.key, calls[0]?.key]);
    expect(statuses(store)).toEqual(["sent", "sent", "sent"]);
  });

  it("given one turn to prepare at a time, a message renders only once the one before it is at its send gate", async () => {
    for (const turns of [true, false]) {
      const { deps, message } = setup([], 30);
      const events: string[] = [];
      const tokens = deps.manageToken;
      // Each token takes a turn of the event loop, so two messages rendering side by side alternate email by email.
      deps.manageToken = async (pub, id, contact) => {
        events.push(id);
        await new Promise((resolve) => setTimeout(resolve, 0));
        return tokens(pub, id, contact);
      };
      const send = deps.sender.sendBatch.bind(deps.sender);
      deps.sender.sendBatch = (emails, key, gate) =>
        send(emails, key, async () => {
          events.push(`gate ${emails[0]?.to}`);
          return (await gate?.()) ?? (() => {});
        });
      // One turn at a time, in the order asked (as the queue consumer gives them).
      let free: Promise<void> = Promise.resolve();
      if (turns) {
        deps.preparing = async () => {
          const before = free;
          let release = () => {};
          free = new Promise((resolve) => {
            release = resolve;
          });
          await before;
          return release;
        };
      }
      const halves = [message.subscriberIds.slice(0, 15), message.subscriberIds.slice(15)];
      await Promise.all(halves.map((ids, chunk) => processMessage(deps, { ...message, chunk, subscriberIds: ids }, 1)));
      // Each id is asked for its token twice: for the claim, then for the email rendered.
      const seen = new Set<string>();
      const rendered = events.filter((e) => e.startsWith("gate") || seen.has(e) || !seen.add(e));
      // Whichever message had the first turn, the other renders nothing before that one is at its gate.
      const firstGate = rendered.findIndex((e) => e.startsWith("gate"));
      const first = rendered[firstGate] === "gate s0@example.com" ? 0 : 1;
      const other = new Set(halves[1 - first]);
      const otherBeforeGate = rendered.slice(0, firstGate).filter((e) => other.has(e));
      expect(otherBeforeGate.length === 0, `turns: ${turns}, ${rendered.join(" ")}`).toBe(turns);
    }
  });

  it("a 429 with a long retry-after is waited out on the queue, not in place", async () => {
    const { calls, deps, message } = setup([{ kind: "rate-limited", retryAfterSeconds: 7, detail: "429" }]);
    expect(await processMessage(deps, message, 1)).toEqual({ action: "retry", delaySeconds: 7, reason: "429" });
    expect(calls).toHaveLength(1);
  });

  it("a consumer whose lease ran out during an in-place wait and was taken by another does not send again", async () => {
    const { store, calls, deps, message, advance } = setup([
      { kind: "rate-limited", retryAfterSeconds: 1, detail: "429" },
    ]);
    deps.sleep = async (ms) => {
      // The wait overran the lease, and a re-delivered copy of the message took it.
      const key = calls[0]?.key ?? "";
      const later = Date.parse("2026-11-23T09:00:00Z") + SEND_LEASE_MS + ms;
      advance(SEND_LEASE_MS + ms);
      expect(await store.lease(2, key, message.subscriberIds, "other consumer", later, later + SEND_LEASE_MS)).toBe(
        true,
      );
    };
    expect(await processMessage(deps, message, 1)).toMatchObject({ action: "retry" });
    expect(calls).toHaveLength(1);
    expect(statuses(store)).toEqual(["sending", "sending", "sending"]);
  });

  it("an in-place retry within the first half of the lease writes no lease again; after it, the lease is renewed", async () => {
    for (const [waitSeconds, renewals] of [
      [1, 0],
      [SEND_LEASE_MS / 1000 / 2 + 1, 1],
    ] as const) {
      const { store, calls, deps, message, advance } = setup([
        { kind: "rate-limited", retryAfterSeconds: 1, detail: "429" },
      ]);
      deps.sleep = async () => advance(waitSeconds * 1000);
      let leases = 0;
      const lease = store.lease.bind(store);
      store.lease = (...args) => {
        leases++;
        return lease(...args);
      };
      expect(await processMessage(deps, message, 1)).toMatchObject({ action: "ack", sent: 3 });
      expect(calls).toHaveLength(2);
      expect(leases).toBe(renewals);
    }
  });

  it("someone who unsubscribed before their batch was attempted is suppressed and gets nothing", async () => {
    const { store, calls, deps, message } = setup([]);
    const s1 = store.subscriberTable.get("s1");
    if (s1) s1.status = "unsubscribed";
    expect(await processMessage(deps, message, 1)).toMatchObject({ action: "ack", sent: 2, suppressed: 1 });
    expect(calls[0]?.emails.map((e) => e.to)).toEqual(["s0@example.com", "s2@example.com"]);
  });

  it("a refused batch (permanent 4xx) ends dead and is listed in the dead letters", async () => {
    const { store, deps, message } = setup([{ kind: "rejected", status: 422, detail: "invalid" }]);
    expect(await processMessage(deps, message, 1)).toMatchObject({ action: "ack", dead: 3 });
    expect(statuses(store)).toEqual(["dead", "dead", "dead"]);
    expect(store.deadLetters).toHaveLength(1);
    expect(store.deadLetters[0]?.subscriberIds).toEqual(["s0", "s1", "s2"]);
  });

  it("a batch still unknown past Resend's 24 h key window is flagged stuck for a person, never sent again", async () => {
    const timeout: BatchOutcome = { kind: "unknown", detail: "timeout" };
    const { store, calls, deps, message, advance } = setup(Array(1 + IN_PLACE_RETRIES).fill(timeout));
    await processMessage(deps, message, 1);
    advance(IDEMPOTENCY_WINDOW_MS);
    expect(await processMessage(deps, message, 2)).toMatchObject({ action: "ack", stuck: 3 });
    expect(calls).toHaveLength(1 + IN_PLACE_RETRIES);
    expect(statuses(store)).toEqual(["stuck", "stuck", "stuck"]);
    expect(store.deadLetters).toHaveLength(1);
  });

  it("when retries run out with the outcome unknown, the rows are stuck (maybe sent) and listed, not dropped", async () => {
    const unknown: BatchOutcome = { kind: "unknown", detail: "503" };
    // Every call of every attempt, in place and from the queue, ends unknown.
    const { store, calls, deps, message } = setup(Array(4 * (1 + IN_PLACE_RETRIES)).fill(unknown));
    for (let attempt = 1; attempt < 4; attempt++) {
      expect((await processMessage(deps, message, attempt)).action).toBe("retry");
    }
    expect(await processMessage(deps, message, 4)).toMatchObject({ action: "ack", stuck: 3 });
    expect(calls).toHaveLength(4 * (1 + IN_PLACE_RETRIES));
    expect(store.deadLetters).toHaveLength(1);
  });

  it("two consumers with the same message at once: one call, the other waits its turn (send lease)", async () => {
    const { calls, deps, message } = setup([]);
    const [a, b] = await Promise.all([processMessage(deps, message, 1), processMessage(deps, message, 1)]);
    expect(calls).toHaveLength(1);
    expect([a.action, b.action].sort()).toEqual(["ack", "retry"]);
  });
});

describe("transportSender: the email port's answers in the send loop's terms", () => {
  const answer = (outcome: Awaited<ReturnType<SendPort["send"]>>) => transportSender({ send: async () => outcome });
  const send = (outcome: Awaited<ReturnType<SendPort["send"]>>) => answer(outcome).sendBatch([], "k");

  it("maps every kind of answer", async () => {
    expect(await send({ outcome: "sent", ids: ["a"] })).toEqual({ kind: "accepted", messageIds: ["a"] });
    expect(await send({ outcome: "unknown", message: "socket hang up" })).toMatchObject({ kind: "unknown" });
    expect(
      await send({ outcome: "failed", status: 429, retryable: true, message: "slow down", retryAfterSeconds: 3 }),
    ).toMatchObject({ kind: "rate-limited", retryAfterSeconds: 3 });
    expect(await send({ outcome: "failed", status: 429, retryable: true, message: "slow down" })).toMatchObject({
      kind: "rate-limited",
      retryAfterSeconds: 1,
    });
    expect(await send({ outcome: "failed", status: 503, retryable: true, message: "down" })).toMatchObject({
      kind: "unknown",
    });
    expect(
      await send({ outcome: "failed", status: 409, retryable: false, message: "concurrent_idempotent_requests: busy" }),
    ).toMatchObject({ kind: "unknown", retryAfterSeconds: 1 });
    expect(
      await send({
        outcome: "failed",
        status: 409,
        retryable: false,
        message: "invalid_idempotent_request: other body",
      }),
    ).toMatchObject({ kind: "key-conflict" });
    expect(await send({ outcome: "failed", status: 422, retryable: false, message: "bad" })).toMatchObject({
      kind: "rejected",
      status: 422,
    });
  });

  it("a key reused with another body means an earlier attempt went through: stuck for a person, not dead", async () => {
    const { store, deps, message } = setup([{ kind: "key-conflict", detail: "409" }]);
    expect(await processMessage(deps, message, 1)).toMatchObject({ action: "ack", stuck: 3 });
    expect(statuses(store)).toEqual(["stuck", "stuck", "stuck"]);
    expect(store.deadLetters).toHaveLength(1);
  });
});
