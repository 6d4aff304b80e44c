/**
 * The `dead_letters` table (migrations/0002_notices.sql, 0003_notice_recovery.sql): deliveries given up, by the
 * consumer (db/deliveries.ts `finish`), the reconciler (db/fanout-chunks.ts `giveUpChunk`) or the dead letter queue.
 */
import type { FanoutMessage } from "../notices/engine/fanout.ts";

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
