/**
 * The `webhook_events` table (migrations/0002_notices.sql): provider event ids already handled, so a webhook
 * delivered twice acts once. The suppression it leads to is a subscriber write (db/subscribers.ts `suppressAddress`).
 */

/** Records a webhook event id; false when it was seen before (a duplicate delivery). */
export async function recordWebhookEvent(db: D1Database, id: string, type: string, now: string): Promise<boolean> {
  const r = await db
    .prepare("INSERT OR IGNORE INTO webhook_events (id, type, received_at) VALUES (?1, ?2, ?3)")
    .bind(id, type, now)
    .run();
  return r.meta.changes === 1;
}
