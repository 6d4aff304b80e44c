/**
 * Every SQL statement of the notice side (publications, fan-out plan, deliveries ledger, objections, dead letters,
 * webhook events, send slots). Lists of ids travel as one JSON parameter read with json_each, so a chunk of 100
 * never meets D1's limit of 100 bound parameters per query (D1_MAX_BOUND_PARAMETERS in db.ts).
 */
import type { AnnexCDocument } from "../domain/annex.ts";
import type { NoticeTopic } from "../domain/notice.ts";
import type { Locale } from "../domain/schema/common.ts";
import type {
  DeliveryStatus,
  DeliveryStore,
  FanoutMessage,
  LiveSubscriber,
  OpenDelivery,
  RateLimiter,
} from "./notices/fanout.ts";
import { RATE_WINDOW_MARGIN_MS, sendIntervalMs } from "./notices/rate.ts";

// ---------------------------------------------------------------------------------------------
// Publications

export interface PublicationRow {
  sequence: number;
  fingerprint: string;
  previousFingerprint: string | null;
  kind: "baseline" | "notice";
  publishedAt: string;
  recipientCount: number;
  fanoutEnqueuedAt: string | null;
  fanoutCompletedAt: string | null;
  fanoutStalledAt: string | null;
}

interface RawPublication {
  sequence: number;
  fingerprint: string;
  previous_fingerprint: string | null;
  kind: "baseline" | "notice";
  published_at: string;
  recipient_count: number;
  fanout_enqueued_at: string | null;
  fanout_completed_at: string | null;
  fanout_stalled_at: string | null;
}

const PUBLICATION_COLUMNS =
  "sequence, fingerprint, previous_fingerprint, kind, published_at, recipient_count, fanout_enqueued_at, " +
  "fanout_completed_at, fanout_stalled_at";

function toPublication(r: RawPublication): PublicationRow {
  return {
    sequence: r.sequence,
    fingerprint: r.fingerprint,
    previousFingerprint: r.previous_fingerprint,
    kind: r.kind,
    publishedAt: r.published_at,
    recipientCount: r.recipient_count,
    fanoutEnqueuedAt: r.fanout_enqueued_at,
    fanoutCompletedAt: r.fanout_completed_at,
    fanoutStalledAt: r.fanout_stalled_at,
  };
}

export async function lastPublication(db: D1Database): Promise<(PublicationRow & { document: string }) | null> {
  const row = await db
    .prepare(`SELECT ${PUBLICATION_COLUMNS}, document FROM publications ORDER BY sequence DESC LIMIT 1`)
    .first<RawPublication & { document: string }>();
  return row ? { ...toPublication(row), document: row.document } : null;
}

export async function listPublications(db: D1Database): Promise<PublicationRow[]> {
  const { results } = await db
    .prepare(`SELECT ${PUBLICATION_COLUMNS} FROM publications ORDER BY sequence DESC`)
    .all<RawPublication>();
  return results.map(toPublication);
}

export async function publicationDocuments(
  db: D1Database,
  sequence: number,
): Promise<{ publication: PublicationRow; document: AnnexCDocument; previous: AnnexCDocument | null } | null> {
  const { results } = await db
    .prepare(
      `SELECT ${PUBLICATION_COLUMNS}, document FROM publications WHERE sequence IN (?1, ?1 - 1) ORDER BY sequence DESC`,
    )
    .bind(sequence)
    .all<RawPublication & { document: string }>();
  const current = results.find((r) => r.sequence === sequence);
  if (!current) return null;
  const prev = results.find((r) => r.sequence === sequence - 1);
  return {
    publication: toPublication(current),
    document: JSON.parse(current.document) as AnnexCDocument,
    previous: prev ? (JSON.parse(prev.document) as AnnexCDocument) : null,
  };
}

export interface NewPublication {
  sequence: number;
  fingerprint: string;
  previousFingerprint: string | null;
  publishedAt: string;
  document: string;
  diff: string;
  announced: string;
  chunks: string[][];
}

/** Chunks written per INSERT: 50 × 100 ids × ~40 bytes stays far below D1's statement and value limits. */
const CHUNKS_PER_STATEMENT = 50;

/**
 * Records a publication and its frozen fan-out plan in one transaction. Two publish runs at once both try the same
 * `sequence`; the PRIMARY KEY (and the unique chain index) let exactly one win. Returns false for the loser.
 */
export async function insertPublication(db: D1Database, p: NewPublication): Promise<boolean> {
  const recipientCount = p.chunks.reduce((n, c) => n + c.length, 0);
  const statements = [
    db
      .prepare(
        "INSERT INTO publications (sequence, fingerprint, previous_fingerprint, kind, published_at, document, diff, " +
          "announced, recipient_count, fanout_enqueued_at, fanout_completed_at) " +
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
      )
      .bind(
        p.sequence,
        p.fingerprint,
        p.previousFingerprint,
        p.previousFingerprint === null ? "baseline" : "notice",
        p.publishedAt,
        p.document,
        p.diff,
        p.announced,
        recipientCount,
        p.chunks.length === 0 ? p.publishedAt : null,
      ),
  ];
  for (let i = 0; i < p.chunks.length; i += CHUNKS_PER_STATEMENT) {
    const slice = p.chunks.slice(i, i + CHUNKS_PER_STATEMENT).map((ids, k) => ({ chunk: i + k, ids }));
    statements.push(
      db
        .prepare(
          "INSERT INTO fanout_chunks (publication_id, chunk, subscriber_ids) " +
            "SELECT ?1, json_extract(value, '$.chunk'), json(json_extract(value, '$.ids')) FROM json_each(?2)",
        )
        .bind(p.sequence, JSON.stringify(slice)),
    );
  }
  try {
    await db.batch(statements);
    return true;
  } catch (err) {
    if (/UNIQUE|PRIMARY KEY|constraint/i.test(String(err))) return false;
    throw err;
  }
}

/** Chunks of any publication not yet handed to the queue (a publish run that stopped half-way is resumed). */
export async function unenqueuedChunks(db: D1Database, limit: number): Promise<FanoutMessage[]> {
  const { results } = await db
    .prepare(
      "SELECT publication_id, chunk, subscriber_ids FROM fanout_chunks WHERE enqueued_at IS NULL " +
        "ORDER BY publication_id, chunk LIMIT ?1",
    )
    .bind(limit)
    .all<{ publication_id: number; chunk: number; subscriber_ids: string }>();
  return results.map((r) => ({
    publicationId: r.publication_id,
    chunk: r.chunk,
    subscriberIds: JSON.parse(r.subscriber_ids) as string[],
  }));
}

export async function markEnqueued(db: D1Database, messages: readonly FanoutMessage[], now: string): Promise<void> {
  if (messages.length === 0) return;
  const keys = JSON.stringify(messages.map((m) => [m.publicationId, m.chunk]));
  await db.batch([
    db
      .prepare(
        "UPDATE fanout_chunks SET enqueued_at = ?2 WHERE enqueued_at IS NULL AND EXISTS " +
          "(SELECT 1 FROM json_each(?1) j WHERE json_extract(j.value, '$[0]') = publication_id " +
          "AND json_extract(j.value, '$[1]') = chunk)",
      )
      .bind(keys, now),
    db
      .prepare(
        "UPDATE publications SET fanout_enqueued_at = ?1 WHERE fanout_enqueued_at IS NULL AND NOT EXISTS " +
          "(SELECT 1 FROM fanout_chunks c WHERE c.publication_id = publications.sequence AND c.enqueued_at IS NULL)",
      )
      .bind(now),
  ]);
}

// ---------------------------------------------------------------------------------------------
// Recovery of a fan-out that stopped (notices/recovery.ts)

/** A chunk handed to the queue whose message is lost: nothing touched it for the grace period and rows are open. */
export interface StrandedChunk {
  message: FanoutMessage;
  requeues: number;
}

/**
 * Chunks of unfinished publications handed to the queue at or before `cutoff` whose deliveries are missing, or open
 * (pending, or sending without a live send lease), and none of whose rows changed after `cutoff`. A chunk with any
 * live lease is being sent right now and is left alone.
 */
export async function strandedChunks(
  db: D1Database,
  cutoff: string,
  nowMs: number,
  limit: number,
): Promise<StrandedChunk[]> {
  const { results } = await db
    .prepare(
      "WITH open_pubs AS (SELECT sequence FROM publications WHERE fanout_completed_at IS NULL), " +
        "state AS (SELECT publication_id, chunk, COUNT(*) AS n, " +
        "SUM(status = 'pending' OR (status = 'sending' AND COALESCE(lease_until_ms, 0) <= ?2)) AS unleased, " +
        "SUM(status = 'sending' AND lease_until_ms > ?2) AS leased, MAX(updated_at) AS touched " +
        "FROM deliveries WHERE publication_id IN (SELECT sequence FROM open_pubs) GROUP BY publication_id, chunk) " +
        "SELECT c.publication_id, c.chunk, c.subscriber_ids, c.requeues FROM fanout_chunks c " +
        "LEFT JOIN state s ON s.publication_id = c.publication_id AND s.chunk = c.chunk " +
        "WHERE c.publication_id IN (SELECT sequence FROM open_pubs) AND c.enqueued_at IS NOT NULL " +
        "AND c.enqueued_at <= ?1 AND COALESCE(s.leased, 0) = 0 AND COALESCE(s.touched, '') <= ?1 " +
        "AND (COALESCE(s.n, 0) < json_array_length(c.subscriber_ids) OR s.unleased > 0) " +
        "ORDER BY c.publication_id, c.chunk LIMIT ?3",
    )
    .bind(cutoff, nowMs, limit)
    .all<{ publication_id: number; chunk: number; subscriber_ids: string; requeues: number }>();
  return results.map((r) => ({
    message: {
      publicationId: r.publication_id,
      chunk: r.chunk,
      subscriberIds: JSON.parse(r.subscriber_ids) as string[],
    },
    requeues: r.requeues,
  }));
}

/** The chunks are on the queue again: counted, and their hand-off time restarts the grace period. */
export async function markRequeued(db: D1Database, messages: readonly FanoutMessage[], now: string): Promise<void> {
  if (messages.length === 0) return;
  await db
    .prepare(
      "UPDATE fanout_chunks SET requeues = requeues + 1, enqueued_at = ?2 WHERE EXISTS " +
        "(SELECT 1 FROM json_each(?1) j WHERE json_extract(j.value, '$[0]') = publication_id " +
        "AND json_extract(j.value, '$[1]') = chunk)",
    )
    .bind(JSON.stringify(messages.map((m) => [m.publicationId, m.chunk])), now)
    .run();
}

/**
 * The reconciler gives a chunk up: in one write, its missing rows are created, its open rows listed in the dead
 * letters and ended — dead when never handed to the provider, stuck when a call under their key may have gone
 * through. Rows under a live send lease are left to their sender. Returns how many rows were given up.
 */
export async function giveUpChunk(
  db: D1Database,
  chunk: StrandedChunk,
  detail: string,
  now: string,
  nowMs: number,
): Promise<number> {
  const { publicationId, subscriberIds } = chunk.message;
  const open =
    "publication_id = ?1 AND chunk = ?2 AND (status = 'pending' OR " +
    "(status = 'sending' AND COALESCE(lease_until_ms, 0) <= ?3))";
  const [, , ended] = await db.batch([
    db
      .prepare(
        "INSERT OR IGNORE INTO deliveries (publication_id, subscriber_id, chunk, status, updated_at) " +
          "SELECT ?1, value, ?2, 'pending', ?3 FROM json_each(?4)",
      )
      .bind(publicationId, chunk.message.chunk, now, JSON.stringify(subscriberIds)),
    db
      .prepare(
        "INSERT INTO dead_letters (publication_id, chunk, subscriber_ids, reason, attempts, created_at, source) " +
          `SELECT ?1, ?2, json_group_array(subscriber_id), ?4, ?5, ?6, 'reconciler' FROM deliveries WHERE ${open} ` +
          "HAVING COUNT(*) > 0",
      )
      .bind(publicationId, chunk.message.chunk, nowMs, detail, chunk.requeues, now),
    db
      .prepare(
        "UPDATE deliveries SET status = CASE WHEN batch_key IS NULL THEN 'dead' ELSE 'stuck' END, detail = ?4, " +
          `updated_at = ?5, lease_owner = NULL, lease_until_ms = NULL WHERE ${open}`,
      )
      .bind(publicationId, chunk.message.chunk, nowMs, detail, now),
  ]);
  return ended?.meta.changes ?? 0;
}

/** Publications whose every planned delivery has ended are marked complete; returns their ids. */
export async function settleFanouts(db: D1Database, now: string): Promise<number[]> {
  const { results } = await db
    .prepare(
      "UPDATE publications SET fanout_completed_at = ?1 WHERE fanout_completed_at IS NULL " +
        "AND fanout_enqueued_at IS NOT NULL AND recipient_count = (SELECT COUNT(*) FROM deliveries d " +
        "WHERE d.publication_id = publications.sequence AND d.status IN ('sent', 'suppressed', 'dead', 'stuck')) " +
        "RETURNING sequence",
    )
    .bind(now)
    .all<{ sequence: number }>();
  return results.map((r) => r.sequence).sort((a, b) => a - b);
}

/** Publications not (yet) marked complete, oldest first: cheap, for GET /api/health. */
export async function unfinishedFanouts(
  db: D1Database,
): Promise<{ sequence: number; publishedAt: string; stalledAt: string | null }[]> {
  const { results } = await db
    .prepare(
      "SELECT sequence, published_at, fanout_stalled_at FROM publications WHERE fanout_completed_at IS NULL " +
        "ORDER BY sequence",
    )
    .all<{ sequence: number; published_at: string; fanout_stalled_at: string | null }>();
  return results.map((r) => ({ sequence: r.sequence, publishedAt: r.published_at, stalledAt: r.fanout_stalled_at }));
}

/** Flags a publication stalled; true only for the one call that set the flag (the vendor is alerted once). */
export async function markStalled(db: D1Database, sequence: number, now: string): Promise<boolean> {
  const r = await db
    .prepare("UPDATE publications SET fanout_stalled_at = ?2 WHERE sequence = ?1 AND fanout_stalled_at IS NULL")
    .bind(sequence, now)
    .run();
  return r.meta.changes === 1;
}

/** The stall alert could not be sent: clear the flag so the next check tries again. */
export async function unmarkStalled(db: D1Database, sequence: number, stalledAt: string): Promise<void> {
  await db
    .prepare("UPDATE publications SET fanout_stalled_at = NULL WHERE sequence = ?1 AND fanout_stalled_at = ?2")
    .bind(sequence, stalledAt)
    .run();
}

/**
 * Records a message the dead letter queue delivered, with the rows of its chunk still open (or missing). A message
 * delivered twice is recorded once (its queue message id is unique). Returns the open rows listed.
 */
export async function recordDeadMessage(
  db: D1Database,
  letter: { queueMessageId: string; message: FanoutMessage | null; attempts: number; reason: string; now: string },
): Promise<string[]> {
  const m = letter.message;
  const ids = m ? JSON.stringify(m.subscriberIds) : "[]";
  const row = await db
    .prepare(
      "INSERT INTO dead_letters (publication_id, chunk, subscriber_ids, reason, attempts, created_at, source, " +
        "queue_message_id) SELECT ?1, ?2, (SELECT json_group_array(j.value) FROM json_each(?3) j WHERE NOT EXISTS " +
        "(SELECT 1 FROM deliveries d WHERE d.publication_id = ?1 AND d.subscriber_id = j.value " +
        "AND d.status NOT IN ('pending', 'sending'))), ?4, ?5, ?6, 'dead-letter-queue', ?7 WHERE true " +
        "ON CONFLICT (queue_message_id) WHERE queue_message_id IS NOT NULL DO UPDATE SET id = id " +
        "RETURNING subscriber_ids",
    )
    .bind(m?.publicationId ?? 0, m?.chunk ?? -1, ids, letter.reason, letter.attempts, letter.now, letter.queueMessageId)
    .first<{ subscriber_ids: string }>();
  return row ? (JSON.parse(row.subscriber_ids) as string[]) : [];
}

/** Confirmed subscribers with their preferences: the input of the fan-out planner. */
export async function confirmedSubscribers(
  db: D1Database,
): Promise<{ id: string; locale: Locale; topics: NoticeTopic[]; regions: string[] }[]> {
  const { results } = await db
    .prepare("SELECT id, locale, topics, regions FROM subscribers WHERE status = 'confirmed'")
    .all<{ id: string; locale: Locale; topics: string; regions: string }>();
  return results.map((r) => ({
    id: r.id,
    locale: r.locale,
    topics: JSON.parse(r.topics) as NoticeTopic[],
    regions: JSON.parse(r.regions) as string[],
  }));
}

// ---------------------------------------------------------------------------------------------
// Deliveries (the notice ledger)

interface RawOpen {
  subscriber_id: string;
  status: "pending" | "sending";
  email: string | null;
  locale: Locale | null;
  topics: string | null;
  regions: string | null;
  batch_key: string | null;
  claimed_at: string | null;
  deadline: string | null;
  attempts: number;
}

export function d1DeliveryStore(db: D1Database): DeliveryStore {
  return {
    async ensure(publicationId, chunk, subscriberIds, now) {
      await db
        .prepare(
          "INSERT OR IGNORE INTO deliveries (publication_id, subscriber_id, chunk, status, updated_at) " +
            "SELECT ?1, value, ?2, 'pending', ?3 FROM json_each(?4)",
        )
        .bind(publicationId, chunk, now, JSON.stringify(subscriberIds))
        .run();
    },
    async open(publicationId, subscriberIds) {
      const { results } = await db
        .prepare(
          "SELECT subscriber_id, status, email, locale, topics, regions, batch_key, claimed_at, deadline, attempts " +
            "FROM deliveries WHERE publication_id = ?1 AND status IN ('pending', 'sending') " +
            "AND subscriber_id IN (SELECT value FROM json_each(?2))",
        )
        .bind(publicationId, JSON.stringify(subscriberIds))
        .all<RawOpen>();
      return results.map(
        (r): OpenDelivery => ({
          subscriberId: r.subscriber_id,
          status: r.status,
          email: r.email,
          locale: r.locale,
          topics: r.topics ? (JSON.parse(r.topics) as NoticeTopic[]) : null,
          regions: r.regions ? (JSON.parse(r.regions) as string[]) : null,
          batchKey: r.batch_key,
          claimedAt: r.claimed_at,
          deadline: r.deadline,
          attempts: r.attempts,
        }),
      );
    },
    async subscribers(ids) {
      const { results } = await db
        .prepare(
          "SELECT id, email, status, locale, topics, regions FROM subscribers WHERE id IN (SELECT value FROM json_each(?1))",
        )
        .bind(JSON.stringify(ids))
        .all<{
          id: string;
          email: string;
          status: LiveSubscriber["status"];
          locale: Locale;
          topics: string;
          regions: string;
        }>();
      return new Map(
        results.map((r) => [
          r.id,
          {
            id: r.id,
            email: r.email,
            status: r.status,
            locale: r.locale,
            topics: JSON.parse(r.topics) as NoticeTopic[],
            regions: JSON.parse(r.regions) as string[],
          },
        ]),
      );
    },
    async suppress(publicationId, subscriberIds, reason, now) {
      await db
        .prepare(
          "UPDATE deliveries SET status = 'suppressed', detail = ?3, updated_at = ?4 WHERE publication_id = ?1 " +
            "AND status = 'pending' AND subscriber_id IN (SELECT value FROM json_each(?2))",
        )
        .bind(publicationId, JSON.stringify(subscriberIds), reason, now)
        .run();
    },
    async claim(publicationId, rows, batchKey, claimedAt) {
      const payload = JSON.stringify(
        rows.map((r) => ({ ...r, topics: JSON.stringify(r.topics), regions: JSON.stringify(r.regions) })),
      );
      const [claimed] = await db.batch<{ subscriber_id: string }>([
        db
          .prepare(
            "UPDATE deliveries SET status = 'sending', batch_key = ?3, claimed_at = ?4, updated_at = ?4, " +
              "email = j.email, locale = j.locale, topics = j.topics, regions = j.regions, deadline = j.deadline " +
              "FROM (SELECT json_extract(value, '$.subscriberId') AS id, json_extract(value, '$.email') AS email, " +
              "json_extract(value, '$.locale') AS locale, json_extract(value, '$.topics') AS topics, " +
              "json_extract(value, '$.regions') AS regions, json_extract(value, '$.deadline') AS deadline " +
              "FROM json_each(?2)) AS j " +
              "WHERE deliveries.publication_id = ?1 AND deliveries.subscriber_id = j.id AND deliveries.status = 'pending' " +
              "RETURNING deliveries.subscriber_id",
          )
          .bind(publicationId, payload, batchKey, claimedAt),
        // The manage token each email carries (derived, see notices/tokens.ts): stored as a hash like every token.
        db
          .prepare(
            "INSERT OR IGNORE INTO subscription_tokens (token_hash, subscriber_id, kind, created_at) " +
              "SELECT json_extract(value, '$.manageTokenHash'), json_extract(value, '$.subscriberId'), 'manage', ?2 " +
              "FROM json_each(?1) WHERE json_extract(value, '$.subscriberId') IN (SELECT id FROM subscribers)",
          )
          .bind(payload, claimedAt),
      ]);
      return (claimed?.results ?? []).map((r) => r.subscriber_id);
    },
    async lease(publicationId, batchKey, owner, nowMs, untilMs) {
      const r = await db
        .prepare(
          "UPDATE deliveries SET lease_owner = ?3, lease_until_ms = ?5 WHERE publication_id = ?1 AND batch_key = ?2 " +
            "AND status = 'sending' AND (lease_owner IS NULL OR lease_owner = ?3 OR lease_until_ms <= ?4)",
        )
        .bind(publicationId, batchKey, owner, nowMs, untilMs)
        .run();
      return r.meta.changes > 0;
    },
    async attempted(publicationId, batchKey, detail, now) {
      await db
        .prepare(
          "UPDATE deliveries SET attempts = attempts + 1, detail = ?3, updated_at = ?4, lease_owner = NULL, " +
            "lease_until_ms = NULL " +
            "WHERE publication_id = ?1 AND batch_key = ?2 AND status = 'sending'",
        )
        .bind(publicationId, batchKey, detail, now)
        .run();
    },
    async sent(publicationId, batchKey, messageIds, now) {
      await db
        .prepare(
          "UPDATE deliveries SET status = 'sent', attempts = attempts + 1, sent_at = ?4, updated_at = ?4, detail = NULL, " +
            "message_id = json_extract(?3, '$.' || json_quote(subscriber_id)) " +
            "WHERE publication_id = ?1 AND batch_key = ?2 AND status = 'sending'",
        )
        .bind(publicationId, batchKey, JSON.stringify(Object.fromEntries(messageIds)), now)
        .run();
    },
    async finish(publicationId, batchKey, subscriberIds, status, detail, now, letter) {
      await db.batch([
        db
          .prepare(
            "UPDATE deliveries SET status = ?3, detail = ?4, updated_at = ?5, lease_owner = NULL, lease_until_ms = NULL " +
              "WHERE publication_id = ?1 AND status IN ('pending', 'sending') " +
              "AND subscriber_id IN (SELECT value FROM json_each(?2)) AND (?6 IS NULL OR batch_key = ?6)",
          )
          .bind(publicationId, JSON.stringify(subscriberIds), status, detail, now, batchKey),
        db
          .prepare(
            "INSERT INTO dead_letters (publication_id, chunk, subscriber_ids, reason, attempts, created_at) " +
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
          )
          .bind(
            publicationId,
            letter.message.chunk,
            JSON.stringify(subscriberIds),
            `${status}: ${detail}`,
            letter.attempts,
            now,
          ),
      ]);
    },
  };
}

export interface LedgerRow {
  subscriberId: string;
  email: string | null;
  locale: string | null;
  status: DeliveryStatus;
  chunk: number;
  batchKey: string | null;
  claimedAt: string | null;
  sentAt: string | null;
  messageId: string | null;
  deadline: string | null;
  attempts: number;
  detail: string | null;
}

export async function deliveriesOf(db: D1Database, publicationId: number): Promise<LedgerRow[]> {
  const { results } = await db
    .prepare(
      "SELECT subscriber_id, email, locale, status, chunk, batch_key, claimed_at, sent_at, message_id, deadline, " +
        "attempts, detail FROM deliveries WHERE publication_id = ?1 ORDER BY chunk, subscriber_id",
    )
    .bind(publicationId)
    .all<{
      subscriber_id: string;
      email: string | null;
      locale: string | null;
      status: DeliveryStatus;
      chunk: number;
      batch_key: string | null;
      claimed_at: string | null;
      sent_at: string | null;
      message_id: string | null;
      deadline: string | null;
      attempts: number;
      detail: string | null;
    }>();
  return results.map((r) => ({
    subscriberId: r.subscriber_id,
    email: r.email,
    locale: r.locale,
    status: r.status,
    chunk: r.chunk,
    batchKey: r.batch_key,
    claimedAt: r.claimed_at,
    sentAt: r.sent_at,
    messageId: r.message_id,
    deadline: r.deadline,
    attempts: r.attempts,
    detail: r.detail,
  }));
}

export async function deliveryCounts(db: D1Database): Promise<Map<number, Record<string, number>>> {
  const { results } = await db
    .prepare("SELECT publication_id, status, COUNT(*) AS n FROM deliveries GROUP BY publication_id, status")
    .all<{ publication_id: number; status: string; n: number }>();
  const out = new Map<number, Record<string, number>>();
  for (const r of results) out.set(r.publication_id, { ...(out.get(r.publication_id) ?? {}), [r.status]: r.n });
  return out;
}

export async function listDeadLetters(db: D1Database) {
  const { results } = await db
    .prepare(
      "SELECT id, publication_id, chunk, subscriber_ids, reason, attempts, created_at, source FROM dead_letters " +
        "ORDER BY id",
    )
    .all<{
      id: number;
      publication_id: number;
      chunk: number;
      subscriber_ids: string;
      reason: string;
      attempts: number;
      created_at: string;
      source: "consumer" | "dead-letter-queue" | "reconciler";
    }>();
  return results.map((r) => ({
    id: r.id,
    publicationId: r.publication_id,
    chunk: r.chunk,
    subscriberIds: JSON.parse(r.subscriber_ids) as string[],
    reason: r.reason,
    attempts: r.attempts,
    createdAt: r.created_at,
    source: r.source,
  }));
}

/** The delivery of one notice to one subscriber (for the objection window). */
export async function deliveryOf(
  db: D1Database,
  publicationId: number,
  subscriberId: string,
): Promise<{
  status: DeliveryStatus;
  claimedAt: string | null;
  sentAt: string | null;
  deadline: string | null;
} | null> {
  const row = await db
    .prepare(
      "SELECT status, claimed_at, sent_at, deadline FROM deliveries WHERE publication_id = ?1 AND subscriber_id = ?2",
    )
    .bind(publicationId, subscriberId)
    .first<{ status: DeliveryStatus; claimed_at: string | null; sent_at: string | null; deadline: string | null }>();
  return row ? { status: row.status, claimedAt: row.claimed_at, sentAt: row.sent_at, deadline: row.deadline } : null;
}

// ---------------------------------------------------------------------------------------------
// Objections

export interface ObjectionRow {
  id: string;
  publicationId: number;
  subscriberId: string;
  email: string;
  organisation: string;
  reason: string;
  deadline: string;
  createdAt: string;
}

export async function insertObjection(db: D1Database, o: ObjectionRow): Promise<void> {
  await db
    .prepare(
      "INSERT INTO objections (id, publication_id, subscriber_id, email, organisation, reason, deadline, created_at) " +
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .bind(o.id, o.publicationId, o.subscriberId, o.email, o.organisation, o.reason, o.deadline, o.createdAt)
    .run();
}

export async function objectionCounts(db: D1Database): Promise<Map<number, number>> {
  const { results } = await db
    .prepare("SELECT publication_id, COUNT(*) AS n FROM objections GROUP BY publication_id")
    .all<{ publication_id: number; n: number }>();
  return new Map(results.map((r) => [r.publication_id, r.n]));
}

// ---------------------------------------------------------------------------------------------
// Webhooks: bounce and complaint suppress the address

/** Records a webhook event id; false when it was seen before (a duplicate delivery). */
export async function recordWebhookEvent(db: D1Database, id: string, type: string, now: string): Promise<boolean> {
  const r = await db
    .prepare("INSERT OR IGNORE INTO webhook_events (id, type, received_at) VALUES (?1, ?2, ?3)")
    .bind(id, type, now)
    .run();
  return r.meta.changes === 1;
}

/** Suppresses an address (bounce, complaint): it gets no further email. Unknown addresses are ignored. */
export async function suppressAddress(db: D1Database, email: string, reason: string, now: string): Promise<number> {
  const r = await db
    .prepare(
      "UPDATE subscribers SET status = 'suppressed', suppressed_at = COALESCE(suppressed_at, ?3), " +
        "suppressed_reason = ?2, updated_at = ?3 WHERE email = ?1 AND status <> 'suppressed'",
    )
    .bind(email, reason, now)
    .run();
  return r.meta.changes;
}

// ---------------------------------------------------------------------------------------------
// Send budget: one RESEND_MAX_RPS budget shared by every isolate

/**
 * Lets a provider call through when, counting the moment it leaves, no more than `maxRps` calls left within the last
 * 1000 + RATE_WINDOW_MARGIN_MS, and the previous call left at least half an interval ago (no bursts). The check and
 * the record are one INSERT … WHERE, atomic in D1, so concurrent consumers never both take the last place. Judging
 * on recorded departures (not pre-planned slots) means a consumer woken late cannot crowd the calls after it.
 */
export function d1RateLimiter(db: D1Database, maxRps: number, name = "resend"): RateLimiter {
  const window = 1000 + RATE_WINDOW_MARGIN_MS;
  const gap = Math.floor(sendIntervalMs(maxRps) / 2);
  let calls = 0;
  return {
    async acquire() {
      for (;;) {
        const now = Date.now();
        const admitted = await db
          .prepare(
            "INSERT INTO send_log (name, at_ms) SELECT ?1, ?2 WHERE " +
              "(SELECT COUNT(*) FROM send_log WHERE name = ?1 AND at_ms > ?2 - ?3) < ?4 " +
              "AND NOT EXISTS (SELECT 1 FROM send_log WHERE name = ?1 AND at_ms > ?2 - ?5)",
          )
          .bind(name, now, window, maxRps, gap)
          .run();
        if (admitted.meta.changes === 1) {
          if (++calls % 100 === 0) {
            await db
              .prepare("DELETE FROM send_log WHERE name = ?1 AND at_ms < ?2")
              .bind(name, now - 60_000)
              .run();
          }
          return;
        }
        // When does the next place open? The oldest call in the window leaves it, or the gap after the last ends.
        const row = await db
          .prepare(
            "SELECT (SELECT at_ms FROM send_log WHERE name = ?1 AND at_ms > ?2 - ?3 ORDER BY at_ms DESC " +
              "LIMIT 1 OFFSET ?4 - 1) AS oldest, (SELECT MAX(at_ms) FROM send_log WHERE name = ?1) AS last",
          )
          .bind(name, now, window, maxRps)
          .first<{ oldest: number | null; last: number | null }>();
        const readyAt = Math.max((row?.oldest ?? 0) + window, (row?.last ?? 0) + gap);
        await new Promise((r) => setTimeout(r, Math.max(1, readyAt - Date.now() + 1)));
      }
    },
  };
}
