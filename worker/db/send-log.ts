/**
 * The `send_log` table (migrations/0002_notices.sql): the send slots booked against the provider's request rate,
 * shared by every isolate, so one RESEND_MAX_RPS budget holds across all queue consumers. The waiting and the check
 * that a call leaves inside its slot are the engine's (notices/engine/rate.ts `slotLimiter`); this file only books.
 */
import type { SlotBook } from "../notices/engine/rate.ts";

export function d1SlotBook(db: D1Database, name = "resend"): SlotBook {
  return {
    async book(notBeforeMs, rule) {
      // One INSERT … SELECT … RETURNING, atomic in D1: concurrent consumers never book the same slot; the slot is an
      // interval after the last one and a window after the departure of the one `calls` back (not departed yet: its
      // latest departure). Reads at most `calls` rows of the index.
      const row = await db
        .prepare(
          "INSERT INTO send_log (name, at_ms) SELECT ?1, MAX(?2, " +
            "COALESCE((SELECT MAX(at_ms) FROM send_log WHERE name = ?1) + ?3, ?2), " +
            "COALESCE((SELECT COALESCE(departed_ms, at_ms + ?5) FROM send_log WHERE name = ?1 " +
            "ORDER BY at_ms DESC LIMIT 1 OFFSET ?4 - 1) + ?6, ?2)) RETURNING at_ms",
        )
        .bind(name, Math.ceil(notBeforeMs), rule.intervalMs, rule.calls, rule.latenessMs, rule.windowMs)
        .first<{ at_ms: number }>();
      if (!row) throw new Error("send_log: no slot booked");
      return row.at_ms;
    },
    async departed(slotMs, atMs) {
      await db
        .prepare("UPDATE send_log SET departed_ms = ?3 WHERE name = ?1 AND at_ms = ?2")
        .bind(name, slotMs, Math.ceil(atMs))
        .run();
    },
    async release(slotMs) {
      await db.prepare("DELETE FROM send_log WHERE name = ?1 AND at_ms = ?2").bind(name, slotMs).run();
    },
    async forget(beforeMs) {
      await db.prepare("DELETE FROM send_log WHERE name = ?1 AND at_ms < ?2").bind(name, beforeMs).run();
    },
  };
}
