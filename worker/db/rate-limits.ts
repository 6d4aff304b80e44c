/**
 * The `rate_limits` table (migrations/0001_subscriptions.sql): fixed-window counters for sign-ups per IP and per
 * address. The sign-up batch counts in the same transaction as it writes (db/subscribers.ts `recordSignup`).
 */

export interface WindowCount {
  count: number;
  resetAtMs: number;
}

export function windowKey(prefix: string, subject: string, windowMs: number, nowMs: number) {
  const start = Math.floor(nowMs / windowMs) * windowMs;
  return { key: `${prefix}:${subject}:${start}`, resetAtMs: start + windowMs };
}

export function countStatement(db: D1Database, key: string, expiresAtMs: number): D1PreparedStatement {
  return db
    .prepare(
      "INSERT INTO rate_limits (key, count, expires_at_ms) VALUES (?1, 1, ?2) " +
        "ON CONFLICT (key) DO UPDATE SET count = count + 1 RETURNING count",
    )
    .bind(key, expiresAtMs);
}

/** Counts one hit in the current window for `subject` and returns the new count. */
export async function countHit(
  db: D1Database,
  prefix: string,
  subject: string,
  windowMs: number,
  nowMs: number,
): Promise<WindowCount> {
  const { key, resetAtMs } = windowKey(prefix, subject, windowMs, nowMs);
  const row = await countStatement(db, key, resetAtMs).first<{ count: number }>();
  return { count: row?.count ?? 1, resetAtMs };
}
