import { Hono, type MiddlewareHandler } from "hono";
import { toCsv } from "../../domain/csv.ts";
import { deliveriesOf, deliveryCounts, listDeadLetters, listPublications, objectionCounts } from "../db-notices.ts";
import { ApiError } from "../errors.ts";
import { deployedDocument, PublishError, publish } from "../notices/publish.ts";
import { bearerToken, secretsEqual } from "../security.ts";
import type { AppEnv } from "../types.ts";

/** Bearer ADMIN_TOKEN, compared in constant time (DESIGN "API"). */
export const requireAdmin: MiddlewareHandler<AppEnv> = async (c, next) => {
  const token = bearerToken(c.req.header("Authorization"));
  if (!token || !(await secretsEqual(token, c.env.ADMIN_TOKEN))) {
    throw new ApiError("unauthorized", "Send the admin token as `Authorization: Bearer <ADMIN_TOKEN>`.", {
      headers: { "WWW-Authenticate": 'Bearer realm="admin"' },
    });
  }
  await next();
};

/** The publish check for both callers (this route and the cron trigger). */
export function runPublish(env: Env, origin: string, now: Date) {
  return publish({ db: env.DB, queue: env.NOTICE_QUEUE, document: () => deployedDocument(env, origin), now });
}

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

// GET /api/admin/publications: the notice ledger, per publication: delivery counts by status and objections.
admin.get("/publications", async (c) => {
  const [pubs, counts, objections, deadLetters] = await Promise.all([
    listPublications(c.env.DB),
    deliveryCounts(c.env.DB),
    objectionCounts(c.env.DB),
    listDeadLetters(c.env.DB),
  ]);
  c.header("Cache-Control", "no-store");
  return c.json({
    publications: pubs.map((p) => ({
      id: p.sequence,
      kind: p.kind,
      fingerprint: p.fingerprint,
      previousFingerprint: p.previousFingerprint,
      publishedAt: p.publishedAt,
      recipientCount: p.recipientCount,
      fanoutEnqueuedAt: p.fanoutEnqueuedAt,
      deliveries: counts.get(p.sequence) ?? {},
      objections: objections.get(p.sequence) ?? 0,
      deliveriesCsv: `/api/admin/publications/${p.sequence}/deliveries.csv`,
    })),
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

export default admin;
