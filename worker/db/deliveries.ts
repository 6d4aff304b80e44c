/**
 * The `deliveries` table (migrations/0002_notices.sql, 0003_notice_recovery.sql, its indexes 0012): the notice
 * ledger, one row per (publication, subscriber). `d1DeliveryStore` is the send loop's storage port
 * (notices/engine/fanout.ts `DeliveryStore`) over D1; lists of ids travel as one JSON parameter read with json_each,
 * so a chunk of 100 never meets D1's limit of 100 bound parameters per query.
 */
import type { NoticeTopic } from "../../domain/notice.ts";
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

function audienceOf(json: string | null): DeliveryAudience | null {
  if (!json) return null;
  const a = JSON.parse(json) as { region?: string | null; cohort?: string | null };
  return {
    ...(typeof a.region === "string" ? { region: a.region } : {}),
    ...(typeof a.cohort === "string" ? { cohort: a.cohort } : {}),
  };
}

export function d1DeliveryStore(db: D1Database): DeliveryStore {
  return {
    async open(publicationId, subscriberIds) {
      const { results } = await db
        .prepare(
          // The ids lead, each row found by the primary key. An id without a row is pending (a subscriber's row is
          // first written by its claim or suppression, see DeliveryStore.open).
          "SELECT j.value AS subscriber_id, COALESCE(d.status, 'pending') AS status, d.email, d.locale, d.topics, " +
            "d.regions, d.batch_key, d.claimed_at, d.deadline, COALESCE(d.attempts, 0) AS attempts, d.customer_id, " +
            "d.audience FROM json_each(?2) j LEFT JOIN deliveries d ON d.publication_id = ?1 " +
            "AND d.subscriber_id = j.value WHERE d.status IS NULL OR d.status IN ('pending', 'sending')",
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
          customerId: r.customer_id,
          audience: audienceOf(r.audience),
        }),
      );
    },
    async subscribers(subscriberIds, contactIds) {
      const none = { results: [] };
      const [{ results }, contacts] = await Promise.all([
        subscriberIds.length === 0
          ? none
          : db
              .prepare(
                "SELECT id, email, status, locale, topics, regions, cohort FROM subscribers " +
                  "WHERE id IN (SELECT value FROM json_each(?1))",
              )
              .bind(JSON.stringify(subscriberIds))
              .all<{
                id: string;
                email: string;
                status: LiveSubscriber["status"];
                locale: Locale;
                topics: string;
                regions: string;
                cohort: string | null;
              }>(),
        contactIds.length === 0 ? new Map<string, LiveSubscriber>() : liveContacts(db, contactIds),
      ]);
      const out = new Map<string, LiveSubscriber>(contacts);
      for (const r of results) {
        out.set(r.id, {
          id: r.id,
          email: r.email,
          status: r.status,
          locale: r.locale,
          topics: JSON.parse(r.topics) as NoticeTopic[],
          regions: JSON.parse(r.regions) as string[],
          ...(r.cohort !== null ? { cohort: r.cohort } : {}),
        });
      }
      return out;
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
      const contacts = rows.filter((r) => r.customerId !== null).length;
      const [claimed] = await db.batch<{ subscriber_id: string }>([
        // An upsert led by the ids: each row is found by its primary key (an UPDATE … FROM json_each walked every row of
        // the publication for each chunk). Only a pending or missing row is claimed; one another consumer claimed
        // first is left alone and not returned.
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
              "audience = COALESCE(deliveries.audience, excluded.audience) WHERE deliveries.status = 'pending' " +
              "RETURNING subscriber_id",
          )
          .bind(publicationId, payload, batchKey, claimedAt, lease.owner, lease.untilMs, chunk),
        // The manage token each email carries (derived, see notices/engine/tokens.ts): stored as a hash like every token.
        // Each statement only when the batch has such recipients: its json_each would read every row for nothing.
        ...(contacts === rows.length
          ? []
          : [
              db
                .prepare(
                  "INSERT OR IGNORE INTO subscription_tokens (token_hash, subscriber_id, kind, created_at) " +
                    "SELECT json_extract(value, '$.manageTokenHash'), json_extract(value, '$.subscriberId'), 'manage', ?2 " +
                    "FROM json_each(?1) WHERE json_extract(value, '$.subscriberId') IN (SELECT id FROM subscribers)",
                )
                .bind(payload, claimedAt),
            ]),
        // A contact's notice token, with the publication it came with (the objection names it).
        ...(contacts > 0
          ? [
              db
                .prepare(
                  "INSERT OR IGNORE INTO contact_tokens (token_hash, contact_id, publication_id, created_at) " +
                    "SELECT json_extract(value, '$.manageTokenHash'), json_extract(value, '$.subscriberId'), ?2, ?3 " +
                    "FROM json_each(?1) WHERE json_extract(value, '$.customerId') IS NOT NULL " +
                    "AND json_extract(value, '$.subscriberId') IN (SELECT id FROM customer_contacts)",
                )
                .bind(payload, publicationId, claimedAt),
            ]
          : []),
      ]);
      return (claimed?.results ?? []).map((r) => r.subscriber_id);
    },
    async lease(publicationId, batchKey, subscriberIds, owner, nowMs, untilMs) {
      const r = await db
        .prepare(
          // The rows are found by their ids (primary key), then checked for the key: no index on batch_key to keep.
          "UPDATE deliveries SET lease_owner = ?3, lease_until_ms = ?5 WHERE publication_id = ?1 " +
            "AND subscriber_id IN (SELECT value FROM json_each(?6)) AND batch_key = ?2 AND status = 'sending' " +
            "AND (lease_owner IS NULL OR lease_owner = ?3 OR lease_until_ms <= ?4)",
        )
        .bind(publicationId, batchKey, owner, nowMs, untilMs, JSON.stringify(subscriberIds))
        .run();
      return r.meta.changes > 0;
    },
    async attempted(publicationId, batchKey, subscriberIds, detail, now) {
      await db
        .prepare(
          "UPDATE deliveries SET attempts = attempts + 1, detail = ?3, updated_at = ?4, lease_owner = NULL, " +
            "lease_until_ms = NULL WHERE publication_id = ?1 AND subscriber_id IN (SELECT value FROM json_each(?5)) " +
            "AND batch_key = ?2 AND status = 'sending'",
        )
        .bind(publicationId, batchKey, detail, now, JSON.stringify(subscriberIds))
        .run();
    },
    async sent(publicationId, batchKey, subscriberIds, messageIds, now) {
      await db
        .prepare(
          "UPDATE deliveries SET status = 'sent', attempts = attempts + 1, sent_at = ?4, updated_at = ?4, detail = NULL, " +
            "message_id = json_extract(?3, '$.' || json_quote(subscriber_id)) WHERE publication_id = ?1 " +
            "AND subscriber_id IN (SELECT value FROM json_each(?5)) AND batch_key = ?2 AND status = 'sending'",
        )
        .bind(
          publicationId,
          batchKey,
          JSON.stringify(Object.fromEntries(messageIds)),
          now,
          JSON.stringify(subscriberIds),
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

/** The delivery an email belongs to, by the provider's message id (deliveries_by_message). */
export async function deliveryByMessage(
  db: D1Database,
  messageId: string,
): Promise<{
  publicationId: number;
  subscriberId: string;
  claimedAt: string | null;
  sentAt: string | null;
  deadline: string | null;
  deliveredAt: string | null;
} | null> {
  const row = await db
    .prepare(
      "SELECT publication_id, subscriber_id, claimed_at, sent_at, deadline, delivered_at FROM deliveries " +
        "WHERE message_id = ?1 LIMIT 1",
    )
    .bind(messageId)
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
  messageId: string,
  deliveredAt: string,
  honouredDeadline: string,
): Promise<boolean> {
  const r = await db
    .prepare(
      "UPDATE deliveries SET delivered_at = ?2, honoured_deadline = ?3 WHERE message_id = ?1 AND delivered_at IS NULL",
    )
    .bind(messageId, deliveredAt, honouredDeadline)
    .run();
  return r.meta.changes > 0;
}

/** Records that an email bounced (the first report counts). */
export async function recordBounced(db: D1Database, messageId: string, bouncedAt: string): Promise<number> {
  const r = await db
    .prepare("UPDATE deliveries SET bounced_at = ?2 WHERE message_id = ?1 AND bounced_at IS NULL")
    .bind(messageId, bouncedAt)
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
