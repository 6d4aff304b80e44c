import { Hono } from "hono";
import { Webhook } from "svix";
import { deliveryOfTags } from "../../domain/notice.ts";
import { recordWebhookEvent } from "../db/webhook-events.ts";
import { ApiError } from "../http/errors.ts";
import type { AppEnv } from "../http/types.ts";
import { recordBounce, recordDelivery, suppressRecipient } from "../notices/receipts.ts";

// POST /api/webhooks/resend: Resend signs its webhooks with Svix. A missing or wrong signature, or a timestamp more
// than 5 minutes off (svix's tolerance), is refused with 401 before anything is read. Bounces and complaints suppress
// the address (a subscriber's and a customer contact's): it gets no further email, including the rest of a fan-out in
// progress (checked at send time). `email.delivered` records the receipt of a notice and the deadline it honours
// (DPA 5.3, notices/receipts.ts); `email.bounced` also marks the notice bounced. A webhook delivered twice (same
// svix-id) is acknowledged and changes nothing.

/** Events that mean "stop mailing this address". */
export const SUPPRESSING_EVENTS: Readonly<Record<string, string>> = {
  "email.bounced": "bounce",
  "email.complained": "complaint",
};

/** Webhook payloads are small; anything larger is not from Resend. */
const MAX_WEBHOOK_BYTES = 64 * 1024;

const webhooks = new Hono<AppEnv>();

webhooks.post("/resend", async (c) => {
  const unauthorized = (why: string) =>
    new ApiError("unauthorized", `The webhook signature could not be verified: ${why}.`);
  const id = c.req.header("svix-id");
  const timestamp = c.req.header("svix-timestamp");
  const signature = c.req.header("svix-signature");
  if (!id || !timestamp || !signature) throw unauthorized("svix-id, svix-timestamp and svix-signature are required");
  const payload = await c.req.text();
  if (payload.length > MAX_WEBHOOK_BYTES) throw new ApiError("payload_too_large", "The webhook body is too large.");
  if (!c.env.RESEND_WEBHOOK_SECRET) throw unauthorized("no webhook secret is configured");
  let event: { type?: unknown; created_at?: unknown; data?: { to?: unknown; email_id?: unknown; tags?: unknown } };
  try {
    event = new Webhook(c.env.RESEND_WEBHOOK_SECRET).verify(payload, {
      "svix-id": id,
      "svix-timestamp": timestamp,
      "svix-signature": signature,
    }) as typeof event;
  } catch (err) {
    throw unauthorized(err instanceof Error ? err.message : "invalid signature");
  }
  const type = typeof event.type === "string" ? event.type : "unknown";
  const now = new Date().toISOString();
  if (!(await recordWebhookEvent(c.env.DB, id, type, now))) {
    return c.json({ status: "duplicate", id, detail: "This webhook was already processed." });
  }
  // The event's own time is when it happened at the provider; this request may come later (webhooks are retried).
  const at = typeof event.created_at === "string" ? new Date(event.created_at) : new Date(Number.NaN);
  const happenedAt = Number.isNaN(at.getTime()) ? new Date(now) : at;
  const messageId = typeof event.data?.email_id === "string" ? event.data.email_id : undefined;
  // A notice carries the tags of its delivery, which Resend sends back with every event (domain/notice.ts).
  const ref = messageId ? { messageId, delivery: deliveryOfTags(event.data?.tags) } : undefined;
  if (type === "email.delivered") {
    const receipt = ref ? await recordDelivery(c.env.DB, ref, happenedAt) : { matched: false };
    return c.json({ status: "processed", id, type, ...receipt });
  }
  const reason = SUPPRESSING_EVENTS[type];
  if (!reason) return c.json({ status: "ignored", id, type });
  const bounced = type === "email.bounced" && ref ? await recordBounce(c.env.DB, ref, happenedAt) : false;
  const to = Array.isArray(event.data?.to) ? event.data.to : [event.data?.to];
  let suppressed = 0;
  for (const address of to) {
    if (typeof address === "string")
      suppressed += await suppressRecipient(c.env.DB, address.trim().toLowerCase(), reason, now);
  }
  return c.json({ status: "processed", id, type, suppressed, ...(type === "email.bounced" ? { bounced } : {}) });
});

export default webhooks;
