/** The `objections` table (migrations/0002_notices.sql): objections to a notice (DPA 5.3). */

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
