/**
 * The `send_log` table (migrations/0002_notices.sql): when each provider call left, shared by every isolate, so one
 * RESEND_MAX_RPS budget holds across all queue consumers. The waiting is the engine's (notices/engine/rate.ts
 * `sharedRateLimiter`); this file only counts and records.
 */
import type { SendLog } from "../notices/engine/rate.ts";

export function d1SendLog(db: D1Database, name = "resend"): SendLog {
  return {
    async admit({ nowMs, windowMs, maxCalls, gapMs }) {
      // The check and the record are one INSERT … WHERE, atomic in D1: concurrent consumers never both take the
      // last place.
      const admitted = await db
        .prepare(
          "INSERT INTO send_log (name, at_ms) SELECT ?1, ?2 WHERE " +
            "(SELECT COUNT(*) FROM send_log WHERE name = ?1 AND at_ms > ?2 - ?3) < ?4 " +
            "AND NOT EXISTS (SELECT 1 FROM send_log WHERE name = ?1 AND at_ms > ?2 - ?5)",
        )
        .bind(name, nowMs, windowMs, maxCalls, gapMs)
        .run();
      return admitted.meta.changes === 1;
    },
    async busy({ nowMs, windowMs, maxCalls }) {
      const row = await db
        .prepare(
          "SELECT (SELECT at_ms FROM send_log WHERE name = ?1 AND at_ms > ?2 - ?3 ORDER BY at_ms DESC " +
            "LIMIT 1 OFFSET ?4 - 1) AS oldest, (SELECT MAX(at_ms) FROM send_log WHERE name = ?1) AS last",
        )
        .bind(name, nowMs, windowMs, maxCalls)
        .first<{ oldest: number | null; last: number | null }>();
      return { oldestInWindowMs: row?.oldest ?? null, lastMs: row?.last ?? null };
    },
    async forget(beforeMs) {
      await db.prepare("DELETE FROM send_log WHERE name = ?1 AND at_ms < ?2").bind(name, beforeMs).run();
    },
  };
}
