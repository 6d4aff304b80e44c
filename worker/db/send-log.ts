/**
 * The `send_log` table (migrations/0002_notices.sql): the send slots booked against the provider's request rate,
 * shared by every isolate, so one RESEND_MAX_RPS budget holds across all queue consumers. The waiting and the check
 * that a call leaves inside its slot are the engine's (notices/engine/rate.ts `slotLimiter`); this file only books.
 */
import type { SlotBook } from "../notices/engine/rate.ts";

export function d1SlotBook(db: D1Database, name = "resend"): SlotBook {
  return {
    async book(notBeforeMs, intervalMs) {
      // One INSERT … SELECT … RETURNING, atomic in D1: concurrent consumers never book the same slot, and every slot
      // is at least `intervalMs` after the one before it.
      const row = await db
        .prepare(
          "INSERT INTO send_log (name, at_ms) SELECT ?1, MAX(?2, COALESCE((SELECT MAX(at_ms) FROM send_log " +
            "WHERE name = ?1), ?2 - ?3) + ?3) RETURNING at_ms",
        )
        .bind(name, Math.ceil(notBeforeMs), intervalMs)
        .first<{ at_ms: number }>();
      if (!row) throw new Error("send_log: no slot booked");
      return row.at_ms;
    },
    async forget(beforeMs) {
      await db.prepare("DELETE FROM send_log WHERE name = ?1 AND at_ms < ?2").bind(name, beforeMs).run();
    },
  };
}
