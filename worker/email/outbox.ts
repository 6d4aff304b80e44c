import { insertOutbox, outboxIdsForKey } from "../db/outbox.ts";
import { assertBatchSize, type EmailTransport } from "./port.ts";

/**
 * EMAIL_TRANSPORT=outbox: "sends" by storing each message in the D1 `outbox` table, readable at
 * GET /api/dev/outbox. Honours idempotency keys like Resend does (a repeated key stores nothing new).
 */
export function outboxTransport(env: Env): EmailTransport {
  return {
    name: "outbox",
    async send(messages, options = {}) {
      assertBatchSize(messages);
      if (messages.length === 0) return { outcome: "sent", ids: [] };
      const key = options.idempotencyKey ?? null;
      if (key) {
        const existing = await outboxIdsForKey(env.DB, key);
        if (existing.length > 0) return { outcome: "sent", ids: existing.map(String) };
      }
      // The outbox's "call" is the insert: the send budget is held there, as for Resend.
      const departed = await options.gate?.();
      departed?.();
      const ids = await insertOutbox(
        env.DB,
        messages.map((m) => ({ ...m, idempotencyKey: key })),
        new Date().toISOString(),
      );
      return { outcome: "sent", ids: ids.map(String) };
    },
  };
}
