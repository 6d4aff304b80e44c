/**
 * The `fanout_chunks` table (migrations/0002_notices.sql, 0003_notice_recovery.sql): a publication's frozen plan, one
 * row per queue message. Lists of ids travel as one JSON parameter read with json_each, so a chunk of 100 never meets
 * D1's limit of 100 bound parameters per query.
 */
import type { FanoutMessage } from "../notices/engine/fanout.ts";

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
        // Led by the keys, each chunk found by its primary key (an EXISTS over the list read every chunk not yet
        // enqueued once per key: quadratic in a publication's chunks).
        "UPDATE fanout_chunks SET enqueued_at = ?2 WHERE enqueued_at IS NULL AND (publication_id, chunk) IN " +
          "(SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?1))",
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
      "UPDATE fanout_chunks SET requeues = requeues + 1, enqueued_at = ?2 WHERE (publication_id, chunk) IN " +
        "(SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?1))",
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
  // The chunk's rows found by their ids (the primary key; migrations/0012_deliveries_indexes.sql).
  const open =
    "publication_id = ?1 AND subscriber_id IN (SELECT value FROM json_each(?7)) AND chunk = ?2 AND " +
    "(status = 'pending' OR (status = 'sending' AND COALESCE(lease_until_ms, 0) <= ?3))";
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
      .bind(publicationId, chunk.message.chunk, nowMs, detail, chunk.requeues, now, JSON.stringify(subscriberIds)),
    db
      .prepare(
        "UPDATE deliveries SET status = CASE WHEN batch_key IS NULL THEN 'dead' ELSE 'stuck' END, detail = ?4, " +
          `updated_at = ?5, lease_owner = NULL, lease_until_ms = NULL WHERE ${open}`,
      )
      .bind(publicationId, chunk.message.chunk, nowMs, detail, now, null, JSON.stringify(subscriberIds)),
  ]);
  return ended?.meta.changes ?? 0;
}
