/**
 * The `publications` table (migrations/0002_notices.sql, 0003_notice_recovery.sql): the hash chain of published
 * Annex C documents, each recorded with its frozen fan-out plan (`fanout_chunks`, db/fanout-chunks.ts) in one
 * transaction, and its fan-out state (enqueued, completed, stalled).
 */
import type { AnnexCDocument } from "../../domain/annex.ts";
import { customerPlanStatements, type PlannedContactDelivery, type PublicationCustomer } from "./customer-notices.ts";

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
  /** What the publication means for each customer under contract (publication_customers). */
  customers?: readonly PublicationCustomer[];
  /** The contacts' deliveries, pending, with their customer and audience; their ids are in `chunks` too. */
  contactDeliveries?: readonly PlannedContactDelivery[];
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
  statements.push(
    ...customerPlanStatements(db, p.sequence, p.customers ?? [], p.contactDeliveries ?? [], p.publishedAt),
  );
  try {
    await db.batch(statements);
    return true;
  } catch (err) {
    if (/UNIQUE|PRIMARY KEY|constraint/i.test(String(err))) return false;
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Fan-out state

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
