/**
 * The `deliveries` table (migrations/0002_notices.sql, 0003_notice_recovery.sql, its indexes 0012, WITHOUT ROWID since
 * 0014): the notice ledger, one row per (publication, subscriber). `d1DeliveryStore` is the send loop's storage port
 * (notices/engine/fanout.ts `DeliveryStore`) over D1. Lists of ids travel as one JSON parameter, so a chunk of 100
 * never meets D1's limit of 100 bound parameters per query.
 *
 * D1 counts every b-tree entry a statement visits as a row read (README "Benchmarks"): a `json_each` of the chunk's
 * ids reads one row per id before any of the ledger's, and `UPDATE … WHERE id IN (SELECT … json_each)` reads each row
 * four times. A chunk's ids are in ascending order (`FanoutMessage`), so its rows are found by a key range instead,
 * and which of the range's rows are the chunk's is checked against the ids passed as a JSON object, which reads no
 * row; a list out of order (a plan cut otherwise) falls back to `json_each`.
 */
import { carriesDeliveryTags, type NoticeTopic } from "../../domain/notice.ts";
import type { Locale } from "../../domain/schema/common.ts";
import type {
  DeliveryAudience,
  DeliveryStatus,
  DeliveryStore,
  LiveSubscriber,
  OpenDelivery,
} from "../notices/engine/fanout.ts";
import { liveContacts } from "./customer-notices.ts";

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
  customer_id: string | null;
  audience: string | null;
}

/** A subscriber's row beside the ledger's (openWithRecipients), null when not looked up or erased. */
interface RawRecipient {
  s_email: string | null;
  s_status: LiveSubscriber["status"] | null;
  s_locale: Locale | null;
  s_topics: string | null;
  s_regions: string | null;
  s_cohort: string | null;
  s_token: string | null;
}

function audienceOf(json: string | null): DeliveryAudience | null {
  if (!json) return null;
  const a = JSON.parse(json) as { region?: string | null; cohort?: string | null };
  return {
    ...(typeof a.region === "string" ? { region: a.region } : {}),
    ...(typeof a.cohort === "string" ? { cohort: a.cohort } : {}),
  };
}

function toOpen(r: RawOpen): OpenDelivery {
  return {
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
    customerId: r.customer_id,
    audience: audienceOf(r.audience),
  };
}

const OPEN_COLUMNS =
  "j.value AS subscriber_id, COALESCE(d.status, 'pending') AS status, d.email, d.locale, d.topics, d.regions, " +
  "d.batch_key, d.claimed_at, d.deadline, COALESCE(d.attempts, 0) AS attempts, d.customer_id, d.audience";

// The ids lead, each row found by the primary key. An id without a row is pending (a subscriber's row is first written
// by its claim or suppression, see DeliveryStore.open): a lookup that finds nothing reads no row.
const OPEN_FROM = "FROM json_each(?2) j LEFT JOIN deliveries d ON d.publication_id = ?1 AND d.subscriber_id = j.value";
const OPEN_WHERE = "WHERE d.status IS NULL OR d.status IN ('pending', 'sending')";

/** The ids as a JSON object, for `json_type(?n, path(subscriber_id)) IS NOT NULL` (membership without reading rows). */
function idSet(ids: readonly string[], value: (id: string) => string | number | null = () => 1): string {
  return JSON.stringify(Object.fromEntries(ids.map((id) => [id, value(id)])));
}
const PATH = "'$.' || json_quote(subscriber_id)";

/**
 * Where a statement finds the rows of `ids`, with its last parameters from `?n` on: by the key range when the ids
 * ascend, else by `json_each`. `inSet` (the ids as a JSON object, see idSet) keeps out the range's other rows.
 */
function rowsOf(ids: readonly string[], n: number, inSet: string): { sql: string; params: string[] } {
  const first = ids[0];
  const last = ids[ids.length - 1];
  const ascending = ids.every((id, i) => i === 0 || (ids[i - 1] as string) < id);
  return ascending && first !== undefined && last !== undefined
    ? { sql: `subscriber_id BETWEEN ?${n} AND ?${n + 1} AND ${inSet}`, params: [first, last] }
    : { sql: `subscriber_id IN (SELECT value FROM json_each(?${n})) AND ${inSet}`, params: [JSON.stringify(ids)] };
}

export function d1DeliveryStore(db: D1Database): DeliveryStore {
  return {
    async open(publicationId, subscriberIds) {
      const { results } = await db
        .prepare(`SELECT ${OPEN_COLUMNS} ${OPEN_FROM} ${OPEN_WHERE}`)
        .bind(publicationId, JSON.stringify(subscriberIds))
        .all<RawOpen>();
      return results.map(toOpen);
    },
    async openWithRecipients(publicationId, subscriberIds) {
      const { results } = await db
        .prepare(
          // A subscriber's row is looked up only for a pending row that is not a contact's (a contact's ledger row is
          // written with the plan, with its customer): one statement for the ledger and the live preferences.
          `SELECT ${OPEN_COLUMNS}, s.email AS s_email, s.status AS s_status, s.locale AS s_locale, ` +
            "s.topics AS s_topics, s.regions AS s_regions, s.cohort AS s_cohort, s.notice_token_hash AS s_token " +
            `${OPEN_FROM} LEFT JOIN subscribers s ON s.id = j.value AND d.customer_id IS NULL ` +
            `AND COALESCE(d.status, 'pending') = 'pending' ${OPEN_WHERE}`,
        )
        .bind(publicationId, JSON.stringify(subscriberIds))
        .all<RawOpen & RawRecipient>();
      const open = results.map(toOpen);
      const contacts = open.filter((r) => r.status === "pending" && r.customerId).map((r) => r.subscriberId);
      const live = contacts.length === 0 ? new Map<string, LiveSubscriber>() : await liveContacts(db, contacts);
      for (const r of results) {
        if (r.s_email === null || r.s_status === null || r.s_locale === null) continue;
        live.set(r.subscriber_id, {
          id: r.subscriber_id,
          email: r.s_email,
          status: r.s_status,
          locale: r.s_locale,
          topics: JSON.parse(r.s_topics ?? "[]") as NoticeTopic[],
          regions: JSON.parse(r.s_regions ?? "[]") as string[],
          ...(r.s_cohort !== null ? { cohort: r.s_cohort } : {}),
          noticeTokenHash: r.s_token,
        });
      }
      return { open, live };
    },
    async suppress(publicationId, chunk, subscriberIds, reason, now) {
      await db
        .prepare(
          "INSERT INTO deliveries (publication_id, subscriber_id, chunk, status, detail, updated_at) " +
            "SELECT ?1, value, ?5, 'suppressed', ?3, ?4 FROM json_each(?2) WHERE true " +
            "ON CONFLICT (publication_id, subscriber_id) DO UPDATE SET status = 'suppressed', detail = excluded.detail, " +
            "updated_at = excluded.updated_at WHERE deliveries.status = 'pending'",
        )
        .bind(publicationId, JSON.stringify(subscriberIds), reason, now, chunk)
        .run();
    },
    async claim(publicationId, chunk, rows, batchKey, claimedAt, lease) {
      const payload = JSON.stringify(
        rows.map((r) => ({
          ...r,
          topics: JSON.stringify(r.topics),
          regions: JSON.stringify(r.regions),
          audience: r.audience ? JSON.stringify(r.audience) : null,
        })),
      );
      const contacts = rows.filter((r) => r.customerId !== null);
      // A subscriber's manage token is stored once (notices/engine/tokens.ts): written here only for one who has not
      // got it yet (confirmed before it was registered at confirmation, or NOTICE_TOKEN_KEY rotated since).
      const tokens = rows.filter((r) => r.customerId === null && !r.manageTokenStored);
      const tokenMap = JSON.stringify(Object.fromEntries(tokens.map((r) => [r.subscriberId, r.manageTokenHash])));
      const [claimed] = await db.batch([
        // An upsert led by the ids: each row is found by its primary key (an UPDATE … FROM json_each walked every row of
        // the publication for each chunk). Only a pending or missing row is claimed; one another consumer claimed
        // first is left alone. No RETURNING: it reads each row twice more; the count of changed rows says whether
        // all were claimed.
        db
          .prepare(
            "INSERT INTO deliveries (publication_id, subscriber_id, chunk, status, batch_key, claimed_at, updated_at, " +
              "lease_owner, lease_until_ms, email, locale, topics, regions, deadline, audience) " +
              "SELECT ?1, json_extract(value, '$.subscriberId'), ?7, 'sending', ?3, ?4, ?4, ?5, ?6, " +
              "json_extract(value, '$.email'), json_extract(value, '$.locale'), json_extract(value, '$.topics'), " +
              "json_extract(value, '$.regions'), json_extract(value, '$.deadline'), json_extract(value, '$.audience') " +
              "FROM json_each(?2) WHERE true " +
              "ON CONFLICT (publication_id, subscriber_id) DO UPDATE SET status = 'sending', batch_key = excluded.batch_key, " +
              "claimed_at = excluded.claimed_at, updated_at = excluded.updated_at, lease_owner = excluded.lease_owner, " +
              "lease_until_ms = excluded.lease_until_ms, email = excluded.email, locale = excluded.locale, " +
              "topics = excluded.topics, regions = excluded.regions, deadline = excluded.deadline, " +
              // A contact's audience was frozen with the plan; a subscriber's stated cohort is recorded here.
              "audience = COALESCE(deliveries.audience, excluded.audience) WHERE deliveries.status = 'pending'",
          )
          .bind(publicationId, payload, batchKey, claimedAt, lease.owner, lease.untilMs, chunk),
        // Each token statement only when the batch has such recipients: its json_each would read every row for nothing.
        ...(tokens.length === 0
          ? []
          : [
              db
                .prepare(
                  "INSERT OR IGNORE INTO subscription_tokens (token_hash, subscriber_id, kind, created_at) " +
                    "SELECT j.value, s.id, 'manage', ?2 FROM json_each(?1) j JOIN subscribers s ON s.id = j.key",
                )
                .bind(tokenMap, claimedAt),
              db
                .prepare(
                  "UPDATE subscribers SET notice_token_hash = json_extract(?1, '$.' || json_quote(id)) " +
                    "WHERE id IN (SELECT key FROM json_each(?1))",
                )
                .bind(tokenMap),
            ]),
        // A contact's notice token, with the publication it came with (the objection names it).
        ...(contacts.length === 0
          ? []
          : [
              db
                .prepare(
                  "INSERT OR IGNORE INTO contact_tokens (token_hash, contact_id, publication_id, created_at) " +
                    "SELECT json_extract(value, '$.manageTokenHash'), json_extract(value, '$.subscriberId'), ?2, ?3 " +
                    "FROM json_each(?1) WHERE json_extract(value, '$.subscriberId') IN (SELECT id FROM customer_contacts)",
                )
                .bind(
                  JSON.stringify(
                    contacts.map((r) => ({ subscriberId: r.subscriberId, manageTokenHash: r.manageTokenHash })),
                  ),
                  publicationId,
                  claimedAt,
                ),
            ]),
      ]);
      const ids = rows.map((r) => r.subscriberId);
      if ((claimed?.meta.changes ?? 0) === rows.length) return ids;
      // Fewer: a concurrent consumer claimed some first. Those this run claimed carry its lease.
      const where = rowsOf(ids, 5, `json_type(?4, ${PATH}) IS NOT NULL`);
      const { results } = await db
        .prepare(
          "SELECT subscriber_id FROM deliveries WHERE publication_id = ?1 AND batch_key = ?2 AND status = 'sending' " +
            `AND lease_owner = ?3 AND ${where.sql}`,
        )
        .bind(publicationId, batchKey, lease.owner, idSet(ids), ...where.params)
        .all<{ subscriber_id: string }>();
      return results.map((r) => r.subscriber_id);
    },
    async lease(publicationId, batchKey, subscriberIds, owner, nowMs, untilMs) {
      // The rows are found by their ids (primary key), then checked for the key: no index on batch_key to keep.
      const where = rowsOf(subscriberIds, 7, `json_type(?6, ${PATH}) IS NOT NULL`);
      const r = await db
        .prepare(
          "UPDATE deliveries SET lease_owner = ?3, lease_until_ms = ?5 WHERE publication_id = ?1 " +
            `AND ${where.sql} AND batch_key = ?2 AND status = 'sending' ` +
            "AND (lease_owner IS NULL OR lease_owner = ?3 OR lease_until_ms <= ?4)",
        )
        .bind(publicationId, batchKey, owner, nowMs, untilMs, idSet(subscriberIds), ...where.params)
        .run();
      return r.meta.changes > 0;
    },
    async attempted(publicationId, batchKey, subscriberIds, detail, now) {
      const where = rowsOf(subscriberIds, 6, `json_type(?5, ${PATH}) IS NOT NULL`);
      await db
        .prepare(
          "UPDATE deliveries SET attempts = attempts + 1, detail = ?3, updated_at = ?4, lease_owner = NULL, " +
            `lease_until_ms = NULL WHERE publication_id = ?1 AND ${where.sql} AND batch_key = ?2 AND status = 'sending'`,
        )
        .bind(publicationId, batchKey, detail, now, idSet(subscriberIds), ...where.params)
        .run();
    },
    async sent(publicationId, batchKey, subscriberIds, messageIds, now) {
      // ?3 maps each id to its message id (null when the provider gave none): the ids and the ids' message ids at once.
      // ?5 holds the ids whose emails carried the delivery's tags: their receipts name the row, so their message id
      // goes into no index (migration 0016).
      const where = rowsOf(subscriberIds, 6, `json_type(?3, ${PATH}) IS NOT NULL`);
      await db
        .prepare(
          "UPDATE deliveries SET status = 'sent', attempts = attempts + 1, sent_at = ?4, updated_at = ?4, detail = NULL, " +
            `message_id = json_extract(?3, ${PATH}), tagged = json_type(?5, ${PATH}) IS NOT NULL ` +
            `WHERE publication_id = ?1 AND ${where.sql} AND batch_key = ?2 AND status = 'sending'`,
        )
        .bind(
          publicationId,
          batchKey,
          idSet(subscriberIds, (id) => messageIds.get(id) ?? null),
          now,
          idSet(subscriberIds.filter(carriesDeliveryTags)),
          ...where.params,
        )
        .run();
    },
    async finish(publicationId, batchKey, subscriberIds, status, detail, now, letter) {
      await db.batch([
        db
          .prepare(
            "UPDATE deliveries SET status = ?3, detail = ?4, updated_at = ?5, lease_owner = NULL, lease_until_ms = NULL " +
              "WHERE publication_id = ?1 AND +status IN ('pending', 'sending') " +
              "AND subscriber_id IN (SELECT value FROM json_each(?2)) AND (?6 IS NULL OR batch_key = ?6)",
          )
          .bind(publicationId, JSON.stringify(subscriberIds), status, detail, now, batchKey),
        // A row never written (a subscriber never claimed) ends too; with a batch key every row exists already.
        db
          .prepare(
            "INSERT OR IGNORE INTO deliveries (publication_id, subscriber_id, chunk, status, detail, updated_at) " +
              "SELECT ?1, value, ?3, ?4, ?5, ?6 FROM json_each(?2) WHERE ?7 IS NULL",
          )
          .bind(publicationId, JSON.stringify(subscriberIds), letter.message.chunk, status, detail, now, batchKey),
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

/** The delivery of one notice to one recipient, a subscriber or a contact (for the objection window). */
export async function deliveryOf(
  db: D1Database,
  publicationId: number,
  subscriberId: string,
): Promise<{
  status: DeliveryStatus;
  claimedAt: string | null;
  sentAt: string | null;
  deadline: string | null;
  deliveredAt: string | null;
  honouredDeadline: string | null;
} | null> {
  const row = await db
    .prepare(
      "SELECT status, claimed_at, sent_at, deadline, delivered_at, honoured_deadline FROM deliveries " +
        "WHERE publication_id = ?1 AND subscriber_id = ?2",
    )
    .bind(publicationId, subscriberId)
    .first<{
      status: DeliveryStatus;
      claimed_at: string | null;
      sent_at: string | null;
      deadline: string | null;
      delivered_at: string | null;
      honoured_deadline: string | null;
    }>();
  return row
    ? {
        status: row.status,
        claimedAt: row.claimed_at,
        sentAt: row.sent_at,
        deadline: row.deadline,
        deliveredAt: row.delivered_at,
        honouredDeadline: row.honoured_deadline,
      }
    : null;
}

// ---------------------------------------------------------------------------------------------
// Receipt (DPA 5.3 counts from receipt): what the provider's webhooks prove about one email

/**
 * Which email a provider event is about: its message id, and the delivery its tags name (domain/notice.ts
 * deliveryOfTags), when it carried them.
 */
export interface ReceiptRef {
  messageId: string;
  delivery?: { publicationId: number; recipientId: string } | undefined;
}

/**
 * Where a statement finds the row of `ref` (?1 is the message id, the key's parameters are ?n and ?n+1): by its key
 * when the event named it (the message id must match too), else by the index of message ids, which holds only the
 * rows whose emails carried no tags (migration 0016).
 */
function receiptRow(ref: ReceiptRef, n: number): { sql: string; params: (string | number)[] } {
  return ref.delivery
    ? {
        sql: `publication_id = ?${n} AND subscriber_id = ?${n + 1} AND message_id = ?1`,
        params: [ref.delivery.publicationId, ref.delivery.recipientId],
      }
    : { sql: "message_id = ?1 AND tagged = 0", params: [] };
}

/** The delivery an email belongs to (see receiptRow). */
export async function deliveryByMessage(
  db: D1Database,
  ref: ReceiptRef,
): Promise<{
  publicationId: number;
  subscriberId: string;
  claimedAt: string | null;
  sentAt: string | null;
  deadline: string | null;
  deliveredAt: string | null;
} | null> {
  const where = receiptRow(ref, 2);
  const row = await db
    .prepare(
      "SELECT publication_id, subscriber_id, claimed_at, sent_at, deadline, delivered_at FROM deliveries " +
        `WHERE ${where.sql} LIMIT 1`,
    )
    .bind(ref.messageId, ...where.params)
    .first<{
      publication_id: number;
      subscriber_id: string;
      claimed_at: string | null;
      sent_at: string | null;
      deadline: string | null;
      delivered_at: string | null;
    }>();
  return row
    ? {
        publicationId: row.publication_id,
        subscriberId: row.subscriber_id,
        claimedAt: row.claimed_at,
        sentAt: row.sent_at,
        deadline: row.deadline,
        deliveredAt: row.delivered_at,
      }
    : null;
}

/** Records the first proven delivery and the deadline it gives; a later report of the same email changes nothing. */
export async function recordDelivered(
  db: D1Database,
  ref: ReceiptRef,
  deliveredAt: string,
  honouredDeadline: string,
): Promise<boolean> {
  const where = receiptRow(ref, 4);
  const r = await db
    .prepare(
      `UPDATE deliveries SET delivered_at = ?2, honoured_deadline = ?3 WHERE ${where.sql} AND delivered_at IS NULL`,
    )
    .bind(ref.messageId, deliveredAt, honouredDeadline, ...where.params)
    .run();
  return r.meta.changes > 0;
}

/** Records that an email bounced (the first report counts). */
export async function recordBounced(db: D1Database, ref: ReceiptRef, bouncedAt: string): Promise<number> {
  const where = receiptRow(ref, 3);
  const r = await db
    .prepare(`UPDATE deliveries SET bounced_at = ?2 WHERE ${where.sql} AND bounced_at IS NULL`)
    .bind(ref.messageId, bouncedAt, ...where.params)
    .run();
  return r.meta.changes;
}

/** Every notice delivery to one recipient (subscriber or contact), oldest first: the GDPR export (Art. 15). */
export async function deliveriesOfRecipient(db: D1Database, recipientId: string): Promise<Record<string, unknown>[]> {
  const { results } = await db
    .prepare(
      "SELECT publication_id AS publication, status, email, locale, topics, regions, audience, " +
        "claimed_at AS firstAttemptAt, sent_at AS sentAt, delivered_at AS deliveredAt, bounced_at AS bouncedAt, " +
        "message_id AS messageId, deadline AS statedDeadline, honoured_deadline AS honouredDeadline, detail " +
        "FROM deliveries WHERE subscriber_id = ?1 ORDER BY publication_id",
    )
    .bind(recipientId)
    .all<Record<string, unknown>>();
  // Lists stored as JSON text are exported as the lists they are.
  return results.map((r) => ({
    ...r,
    topics: typeof r.topics === "string" ? JSON.parse(r.topics) : r.topics,
    regions: typeof r.regions === "string" ? JSON.parse(r.regions) : r.regions,
    audience: typeof r.audience === "string" ? JSON.parse(r.audience) : r.audience,
  }));
}
