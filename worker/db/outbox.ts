/**
 * The `outbox` table (migrations/0001_subscriptions.sql, tags 0016): emails "sent" by the outbox transport
 * (worker/email/outbox.ts), read back at GET /api/dev/outbox and by the tests.
 */
import type { EmailTag } from "../../domain/notice.ts";

export interface OutboxEmail {
  id: number;
  to: string;
  subject: string;
  html: string;
  text: string;
  headers: Record<string, string>;
  /** The provider tags sent with it (a notice's name its delivery), as Resend sends them back with its events. */
  tags: Record<string, string>;
  createdAt: string;
}

export interface OutboxInsert {
  to: string;
  subject: string;
  html: string;
  text: string;
  headers: Record<string, string>;
  tags?: readonly EmailTag[] | undefined;
  idempotencyKey: string | null;
}

/** Stores emails in one batch and returns their outbox ids, in order. */
export async function insertOutbox(db: D1Database, emails: readonly OutboxInsert[], now: string): Promise<number[]> {
  if (emails.length === 0) return [];
  const results = await db.batch<{ id: number }>(
    emails.map((e) =>
      db
        .prepare(
          "INSERT INTO outbox (to_address, subject, html, text, headers, idempotency_key, created_at, tags) " +
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id",
        )
        .bind(
          e.to,
          e.subject,
          e.html,
          e.text,
          JSON.stringify(e.headers),
          e.idempotencyKey,
          now,
          e.tags ? JSON.stringify(Object.fromEntries(e.tags.map((t) => [t.name, t.value]))) : null,
        ),
    ),
  );
  return results.map((r) => r.results[0]?.id ?? 0);
}

/** Outbox ids already stored under an idempotency key (empty when the key is new). */
export async function outboxIdsForKey(db: D1Database, key: string): Promise<number[]> {
  const { results } = await db
    .prepare("SELECT id FROM outbox WHERE idempotency_key = ?1 ORDER BY id")
    .bind(key)
    .all<{ id: number }>();
  return results.map((r) => r.id);
}

/** Newest first; optionally only the emails to one address. */
export async function listOutbox(db: D1Database, options: { to?: string; limit: number }): Promise<OutboxEmail[]> {
  const statement = options.to
    ? db
        .prepare(
          "SELECT id, to_address, subject, html, text, headers, tags, created_at FROM outbox WHERE to_address = ?1 " +
            "ORDER BY id DESC LIMIT ?2",
        )
        .bind(options.to, options.limit)
    : db
        .prepare(
          "SELECT id, to_address, subject, html, text, headers, tags, created_at FROM outbox ORDER BY id DESC LIMIT ?1",
        )
        .bind(options.limit);
  const { results } = await statement.all<{
    id: number;
    to_address: string;
    subject: string;
    html: string;
    text: string;
    headers: string;
    tags: string | null;
    created_at: string;
  }>();
  return results.map((r) => ({
    id: r.id,
    to: r.to_address,
    subject: r.subject,
    html: r.html,
    text: r.text,
    headers: JSON.parse(r.headers) as Record<string, string>,
    tags: r.tags ? (JSON.parse(r.tags) as Record<string, string>) : {},
    createdAt: r.created_at,
  }));
}

export async function clearOutbox(db: D1Database): Promise<void> {
  await db.prepare("DELETE FROM outbox").run();
}
