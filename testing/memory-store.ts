import type {
  ClaimRow,
  DeliveryStatus,
  DeliveryStore,
  FanoutMessage,
  LiveSubscriber,
  OpenDelivery,
} from "../worker/notices/engine/fanout.ts";

// The delivery store in memory: the same contract as the D1 store (worker/db/deliveries.ts), for the fan-out benchmark and for
// unit tests of the send loop in Node. Each method does what one D1 statement (or batch) does, atomically.

export interface MemoryDelivery extends Omit<OpenDelivery, "status"> {
  publicationId: number;
  chunk: number;
  status: DeliveryStatus;
  sentAt: string | null;
  messageId: string | null;
  detail: string | null;
  leaseOwner: string | null;
  leaseUntilMs: number | null;
}

export interface MemoryStore extends DeliveryStore {
  deliveries: Map<string, MemoryDelivery>;
  subscriberTable: Map<string, LiveSubscriber>;
  deadLetters: { message: FanoutMessage; subscriberIds: string[]; reason: string; attempts: number }[];
  tokenHashes: Set<string>;
}

export function memoryDeliveryStore(subscribers: Iterable<LiveSubscriber>): MemoryStore {
  const deliveries = new Map<string, MemoryDelivery>();
  const subscriberTable = new Map([...subscribers].map((s) => [s.id, s]));
  const deadLetters: MemoryStore["deadLetters"] = [];
  const tokenHashes = new Set<string>();
  const key = (pub: number, sub: string) => `${pub}\n${sub}`;
  // Rows by batch key, as the D1 store's index deliveries_by_key.
  const keyIndex = new Map<string, MemoryDelivery[]>();
  const byKey = (pub: number, batchKey: string) =>
    (keyIndex.get(batchKey) ?? []).filter((d) => d.publicationId === pub && d.batchKey === batchKey);

  return {
    deliveries,
    subscriberTable,
    deadLetters,
    tokenHashes,
    async ensure(publicationId, chunk, subscriberIds) {
      for (const id of subscriberIds) {
        if (deliveries.has(key(publicationId, id))) continue;
        deliveries.set(key(publicationId, id), {
          publicationId,
          chunk,
          subscriberId: id,
          status: "pending",
          email: null,
          locale: null,
          topics: null,
          regions: null,
          batchKey: null,
          claimedAt: null,
          attempts: 0,
          customerId: null,
          audience: null,
          deadline: null,
          sentAt: null,
          messageId: null,
          detail: null,
          leaseOwner: null,
          leaseUntilMs: null,
        });
      }
    },
    async open(publicationId, subscriberIds) {
      const out: OpenDelivery[] = [];
      for (const id of subscriberIds) {
        const d = deliveries.get(key(publicationId, id));
        if (d && (d.status === "pending" || d.status === "sending")) out.push({ ...d, status: d.status });
      }
      return out;
    },
    async subscribers(ids) {
      const out = new Map<string, LiveSubscriber>();
      for (const id of ids) {
        const s = subscriberTable.get(id);
        if (s) out.set(id, { ...s });
      }
      return out;
    },
    async suppress(publicationId, subscriberIds, reason) {
      for (const id of subscriberIds) {
        const d = deliveries.get(key(publicationId, id));
        if (d?.status === "pending") Object.assign(d, { status: "suppressed", detail: reason });
      }
    },
    async claim(publicationId, _chunk, rows: readonly ClaimRow[], batchKey, claimedAt, lease) {
      const claimed: string[] = [];
      for (const r of rows) {
        const d = deliveries.get(key(publicationId, r.subscriberId));
        if (d?.status !== "pending") continue;
        Object.assign(d, {
          status: "sending",
          batchKey,
          claimedAt,
          email: r.email,
          locale: r.locale,
          topics: r.topics,
          regions: r.regions,
          audience: d.audience ?? r.audience,
          deadline: r.deadline,
          leaseOwner: lease.owner,
          leaseUntilMs: lease.untilMs,
        });
        tokenHashes.add(r.manageTokenHash);
        keyIndex.set(batchKey, [...(keyIndex.get(batchKey) ?? []), d]);
        claimed.push(r.subscriberId);
      }
      return claimed;
    },
    async lease(publicationId, batchKey, owner, nowMs, untilMs) {
      const rows = byKey(publicationId, batchKey).filter((d) => d.status === "sending");
      const free = rows.filter(
        (d) => d.leaseOwner === null || d.leaseOwner === owner || (d.leaseUntilMs ?? 0) <= nowMs,
      );
      for (const d of free) Object.assign(d, { leaseOwner: owner, leaseUntilMs: untilMs });
      return free.length > 0;
    },
    async attempted(publicationId, batchKey, detail) {
      for (const d of byKey(publicationId, batchKey)) {
        if (d.status === "sending")
          Object.assign(d, { attempts: d.attempts + 1, detail, leaseOwner: null, leaseUntilMs: null });
      }
    },
    async sent(publicationId, batchKey, messageIds, now) {
      for (const d of byKey(publicationId, batchKey)) {
        if (d.status !== "sending") continue;
        Object.assign(d, {
          status: "sent",
          attempts: d.attempts + 1,
          sentAt: now,
          messageId: messageIds.get(d.subscriberId) ?? null,
          detail: null,
        });
      }
    },
    async finish(publicationId, batchKey, subscriberIds, status, detail, _now, letter) {
      for (const id of subscriberIds) {
        const d = deliveries.get(key(publicationId, id));
        if (!d || (d.status !== "pending" && d.status !== "sending")) continue;
        if (batchKey !== null && d.batchKey !== batchKey) continue;
        Object.assign(d, { status, detail, leaseOwner: null, leaseUntilMs: null });
      }
      deadLetters.push({ ...letter, subscriberIds: [...subscriberIds], reason: `${status}: ${detail}` });
    },
  };
}
