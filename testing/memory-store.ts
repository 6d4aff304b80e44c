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
  const blank = (publicationId: number, chunk: number, id: string): MemoryDelivery => ({
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
  /** The row, written as pending when missing: as the D1 store's upserts, which write a subscriber's row first. */
  const row = (pub: number, chunk: number, id: string): MemoryDelivery => {
    let d = deliveries.get(key(pub, id));
    if (!d) {
      d = blank(pub, chunk, id);
      deliveries.set(key(pub, id), d);
    }
    return d;
  };
  // Rows found by their ids, as the D1 store finds them by primary key.
  const byKey = (pub: number, batchKey: string, ids: readonly string[]) =>
    ids.flatMap((id) => {
      const d = deliveries.get(key(pub, id));
      return d?.batchKey === batchKey ? [d] : [];
    });

  return {
    deliveries,
    subscriberTable,
    deadLetters,
    tokenHashes,
    async open(publicationId, subscriberIds) {
      const out: OpenDelivery[] = [];
      for (const id of subscriberIds) {
        const d = deliveries.get(key(publicationId, id));
        if (!d) out.push({ ...blank(publicationId, -1, id), status: "pending" });
        else if (d.status === "pending" || d.status === "sending") out.push({ ...d, status: d.status });
      }
      return out;
    },
    async openWithRecipients(publicationId, subscriberIds) {
      const open = await this.open(publicationId, subscriberIds);
      const live = new Map<string, LiveSubscriber>();
      for (const r of open) {
        const s = subscriberTable.get(r.subscriberId);
        if (r.status === "pending" && s) live.set(r.subscriberId, { ...s });
      }
      return { open, live };
    },
    async suppress(publicationId, chunk, subscriberIds, reason) {
      for (const id of subscriberIds) {
        const d = row(publicationId, chunk, id);
        if (d.status === "pending") Object.assign(d, { status: "suppressed", detail: reason });
      }
    },
    async claim(publicationId, chunk, rows: readonly ClaimRow[], batchKey, claimedAt, lease) {
      const claimed: string[] = [];
      for (const r of rows) {
        const d = row(publicationId, chunk, r.subscriberId);
        if (d.status !== "pending") continue;
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
        // As the D1 store: a subscriber's token is remembered with them, so the next notice writes none.
        const s = subscriberTable.get(r.subscriberId);
        if (s && !s.customerId) s.noticeTokenHash = r.manageTokenHash;
        claimed.push(r.subscriberId);
      }
      return claimed;
    },
    async lease(publicationId, batchKey, ids, owner, nowMs, untilMs) {
      const rows = byKey(publicationId, batchKey, ids).filter((d) => d.status === "sending");
      const free = rows.filter(
        (d) => d.leaseOwner === null || d.leaseOwner === owner || (d.leaseUntilMs ?? 0) <= nowMs,
      );
      for (const d of free) Object.assign(d, { leaseOwner: owner, leaseUntilMs: untilMs });
      return free.length > 0;
    },
    async attempted(publicationId, batchKey, ids, detail) {
      for (const d of byKey(publicationId, batchKey, ids)) {
        if (d.status === "sending")
          Object.assign(d, { attempts: d.attempts + 1, detail, leaseOwner: null, leaseUntilMs: null });
      }
    },
    async sent(publicationId, batchKey, ids, messageIds, now) {
      for (const d of byKey(publicationId, batchKey, ids)) {
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
        const d = row(publicationId, letter.message.chunk, id);
        if (d.status !== "pending" && d.status !== "sending") continue;
        if (batchKey !== null && d.batchKey !== batchKey) continue;
        Object.assign(d, { status, detail, leaseOwner: null, leaseUntilMs: null });
      }
      deadLetters.push({ ...letter, subscriberIds: [...subscriberIds], reason: `${status}: ${detail}` });
    },
  };
}
