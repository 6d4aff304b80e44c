import { Hono, type MiddlewareHandler } from "hono";
import { toCsv } from "../../domain/csv.ts";
import { listDeadLetters } from "../db/dead-letters.ts";
import { deliveriesOf, deliveryCounts } from "../db/deliveries.ts";
import { objectionCounts } from "../db/objections.ts";
import { listPublications } from "../db/publications.ts";
import { webhookDeliveriesOf, webhookDeliveryCounts } from "../db/webhook-deliveries.ts";
import { ApiError } from "../http/errors.ts";
import { bearerToken, secretsEqual } from "../http/security.ts";
import type { AppEnv } from "../http/types.ts";
import { PublishError } from "../notices/publish.ts";
import { runPublish } from "../notices/publish-check.ts";
import { FANOUT_STALL_MS } from "../notices/recovery.ts";

/** Bearer ADMIN_TOKEN, compared in constant time (docs/architecture.md "Subscriptions"). */
export const requireAdmin: MiddlewareHandler<AppEnv> = async (c, next) => {
  const token = bearerToken(c.req.header("Authorization"));
  if (!token || !(await secretsEqual(token, c.env.ADMIN_TOKEN))) {
    throw new ApiError("unauthorized", "Send the admin token as `Authorization: Bearer <ADMIN_TOKEN>`.", {
      headers: { "WWW-Authenticate": 'Bearer realm="admin"' },
    });
  }
  await next();
};

/** Deliveries that have ended; the fan-out is complete when every planned one has. */
const ENDED = ["sent", "suppressed", "dead", "stuck"];

const admin = new Hono<AppEnv>();
admin.use("*", requireAdmin);

// POST /api/admin/publish: idempotent; answers what happened (baseline, unchanged, published).
admin.post("/publish", async (c) => {
  try {
    const result = await runPublish(c.env, new URL(c.req.url).origin, new Date());
    c.header("Cache-Control", "no-store");
    return c.json(result, result.status === "unchanged" ? 200 : 201);
  } catch (err) {
    if (err instanceof PublishError) throw new ApiError("conflict", err.message);
    throw err;
  }
});

// GET /api/admin/publications: the notice ledger, per publication: email and webhook delivery counts by status, and
// objections.
admin.get("/publications", async (c) => {
  const [pubs, counts, webhooks, objections, deadLetters] = await Promise.all([
    listPublications(c.env.DB),
    deliveryCounts(c.env.DB),
    webhookDeliveryCounts(c.env.DB),
    objectionCounts(c.env.DB),
    listDeadLetters(c.env.DB),
  ]);
  c.header("Cache-Control", "no-store");
  const stallBefore = Date.now() - FANOUT_STALL_MS;
  return c.json({
    publications: pubs.map((p) => {
      const deliveries = counts.get(p.sequence) ?? {};
      const ended = ENDED.reduce((n, s) => n + (deliveries[s] ?? 0), 0);
      const complete = ended >= p.recipientCount;
      return {
        id: p.sequence,
        kind: p.kind,
        fingerprint: p.fingerprint,
        previousFingerprint: p.previousFingerprint,
        publishedAt: p.publishedAt,
        recipientCount: p.recipientCount,
        fanoutEnqueuedAt: p.fanoutEnqueuedAt,
        fanout: {
          complete,
          completedAt: p.fanoutCompletedAt,
          // Not complete FANOUT_STALL_MS after publication; the vendor was alerted at `stalledAt` (once).
          stalled: !complete && Date.parse(p.publishedAt) <= stallBefore,
          stalledAt: p.fanoutStalledAt,
        },
        deliveries,
        webhookDeliveries: webhooks.get(p.sequence) ?? {},
        objections: objections.get(p.sequence) ?? 0,
        deliveriesCsv: `/api/admin/publications/${p.sequence}/deliveries.csv`,
        webhooks: `/api/admin/publications/${p.sequence}/webhooks`,
      };
    }),
    deadLetters,
  });
});

// GET /api/admin/publications/{id}/deliveries.csv: who was sent what, when, with which message id (audit evidence).
admin.get("/publications/:id{[0-9]+}/deliveries.csv", async (c) => {
  const id = Number(c.req.param("id"));
  const pubs = await listPublications(c.env.DB);
  const pub = pubs.find((p) => p.sequence === id);
  if (!pub) throw new ApiError("not_found", `There is no publication ${id}.`);
  const rows = await deliveriesOf(c.env.DB, id);
  const csv = toCsv(
    [
      "publication",
      "fingerprint",
      "subscriber_id",
      "email",
      "locale",
      "status",
      "first_attempt_at",
      "sent_at",
      "message_id",
      "objection_deadline",
      "attempts",
      "idempotency_key",
      "detail",
    ],
    rows.map((r) => [
      pub.sequence,
      pub.fingerprint,
      r.subscriberId,
      r.email ?? "",
      r.locale ?? "",
      r.status,
      r.claimedAt ?? "",
      r.sentAt ?? "",
      r.messageId ?? "",
      r.deadline ?? "",
      r.attempts,
      r.batchKey ?? "",
      r.detail ?? "",
    ]),
  );
  return c.body(csv, 200, {
    "Content-Type": "text/csv; charset=utf-8",
    "Content-Disposition": `attachment; filename="publication-${id}-deliveries.csv"`,
    "Cache-Control": "no-store",
  });
});

// GET /api/admin/publications/{id}/webhooks: each endpoint's delivery of the publication with every attempt (status,
// time, latency, the first 1 KB of the answer): what the vendor shows when asked whether a system was told.
admin.get("/publications/:id{[0-9]+}/webhooks", async (c) => {
  const id = Number(c.req.param("id"));
  const pub = (await listPublications(c.env.DB)).find((p) => p.sequence === id);
  if (!pub) throw new ApiError("not_found", `There is no publication ${id}.`);
  c.header("Cache-Control", "no-store");
  return c.json({ publication: id, fingerprint: pub.fingerprint, deliveries: await webhookDeliveriesOf(c.env.DB, id) });
});

export default admin;
