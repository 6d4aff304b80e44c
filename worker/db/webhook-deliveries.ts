/**
 * The webhook ledger (migrations/0009_webhooks.sql, 0013_webhook_delivery.sql): one `webhook_deliveries` row per
 * (publication, endpoint), every attempt in `webhook_attempts`, and the endpoint's count of publications in a row that
 * failed. The delivery rules are in worker/webhooks/deliver.ts; this file only reads and writes.
 */
import type { AttemptOutcome, WebhookAttempt } from "../webhooks/send.ts";
import { insertAttemptStatement } from "./webhook-endpoints.ts";

export type WebhookDeliveryStatus = "pending" | "sending" | "delivered" | "failed";

export interface WebhookKey {
  publicationId: number;
  endpointId: string;
}

/** An active endpoint as the planner needs it: its audience, and its subscriber's regions when it names none. */
export interface PlannableEndpoint {
  id: string;
  url: string;
  regions: string[] | null;
  cohort: string | null;
  subscriberRegions: string[];
}

export interface PlannedWebhookDelivery {
  endpointId: string;
  messageId: string;
  eventType: string;
  url: string;
  payload: string;
}

/** A delivery with what a send needs of its endpoint (null fields: the endpoint was removed). */
export interface WebhookDeliveryRow extends WebhookKey {
  messageId: string;
  eventType: string;
  url: string;
  payload: string;
  status: WebhookDeliveryStatus;
  attempts: number;
  nextAttemptAt: string | null;
  firstAttemptAt: string | null;
  leaseOwner: string | null;
  leaseUntilMs: number | null;
  deliveredAt: string | null;
  detail: string | null;
  createdAt: string;
  endpoint: {
    status: "pending" | "active" | "disabled";
    subscriberId: string;
    /** The owner's subscription (confirmed, unsubscribed …); null when it was erased. */
    subscriberStatus: string | null;
    secretSealed: string;
    previousSecretSealed: string | null;
    previousSecretUntil: string | null;
  } | null;
}

interface RawDelivery {
  publication_id: number;
  endpoint_id: string;
  message_id: string;
  event_type: string;
  url: string;
  payload: string;
  status: WebhookDeliveryStatus;
  attempts: number;
  next_attempt_at: string | null;
  first_attempt_at: string | null;
  lease_owner: string | null;
  lease_until_ms: number | null;
  delivered_at: string | null;
  detail: string | null;
  created_at: string;
  ep_status: "pending" | "active" | "disabled" | null;
  subscriber_id: string | null;
  secret_sealed: string | null;
  previous_secret_sealed: string | null;
  previous_secret_until: string | null;
  subscriber_status: string | null;
}

const parseRegions = (raw: string | null): string[] | null => (raw === null ? null : (JSON.parse(raw) as string[]));

/** Active endpoints of confirmed subscribers: the ones a publication may concern. */
export async function plannableEndpoints(db: D1Database): Promise<PlannableEndpoint[]> {
  const { results } = await db
    .prepare(
      "SELECT e.id, e.url, e.regions, e.cohort, s.regions AS subscriber_regions FROM webhook_endpoints e " +
        "JOIN subscribers s ON s.id = e.subscriber_id WHERE e.status = 'active' AND s.status = 'confirmed' ORDER BY e.id",
    )
    .all<{ id: string; url: string; regions: string | null; cohort: string | null; subscriber_regions: string }>();
  return results.map((r) => ({
    id: r.id,
    url: r.url,
    regions: parseRegions(r.regions),
    cohort: r.cohort,
    subscriberRegions: parseRegions(r.subscriber_regions) ?? [],
  }));
}

export async function isWebhookPlanned(db: D1Database, publicationId: number): Promise<boolean> {
  const row = await db
    .prepare("SELECT 1 AS planned FROM webhook_plans WHERE publication_id = ?1")
    .bind(publicationId)
    .first<{ planned: number }>();
  return row !== null;
}

/** Deliveries written per batch: each row carries its frozen payload (a few KB), far below D1's limits. */
const DELIVERIES_PER_BATCH = 100;

/**
 * Writes the plan of one publication: a pending row per endpoint (INSERT … ON CONFLICT DO NOTHING: a second planner
 * inserts nothing, and the first row's webhook-id stays) and the plan's own row last, in one transaction when the plan
 * fits one batch. A larger plan is written in several; the plan row comes with the last, so a stop half-way leaves
 * the publication unplanned and the reconciler writes the rest (rows that exist are left alone).
 */
export async function recordWebhookPlan(
  db: D1Database,
  publicationId: number,
  deliveries: readonly PlannedWebhookDelivery[],
  now: string,
): Promise<void> {
  const rows = deliveries.map((d) =>
    db
      .prepare(
        "INSERT INTO webhook_deliveries (publication_id, endpoint_id, message_id, event_type, url, payload, status, " +
          "attempts, next_attempt_at, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', 0, ?7, ?7, ?7) " +
          "ON CONFLICT (publication_id, endpoint_id) DO NOTHING",
      )
      .bind(publicationId, d.endpointId, d.messageId, d.eventType, d.url, d.payload, now),
  );
  const plan = db
    .prepare(
      "INSERT INTO webhook_plans (publication_id, planned_at, deliveries) VALUES (?1, ?2, ?3) " +
        "ON CONFLICT (publication_id) DO NOTHING",
    )
    .bind(publicationId, now, deliveries.length);
  const batches: D1PreparedStatement[][] = [];
  for (let i = 0; i < rows.length; i += DELIVERIES_PER_BATCH) batches.push(rows.slice(i, i + DELIVERIES_PER_BATCH));
  if (batches.length === 0) batches.push([]);
  batches[batches.length - 1]?.push(plan);
  for (const statements of batches) await db.batch(statements);
}

/** Notice publications recorded since `since` without a webhook plan (a publish run stopped before planning). */
export async function unplannedPublications(db: D1Database, since: string): Promise<number[]> {
  const { results } = await db
    .prepare(
      "SELECT sequence FROM publications p WHERE kind = 'notice' AND published_at >= ?1 AND NOT EXISTS " +
        "(SELECT 1 FROM webhook_plans w WHERE w.publication_id = p.sequence) ORDER BY sequence",
    )
    .bind(since)
    .all<{ sequence: number }>();
  return results.map((r) => r.sequence);
}

/** The open deliveries of one publication: what the publish run hands to the queue. */
export async function openWebhookDeliveries(db: D1Database, publicationId: number): Promise<WebhookKey[]> {
  const { results } = await db
    .prepare(
      "SELECT publication_id, endpoint_id FROM webhook_deliveries WHERE publication_id = ?1 " +
        "AND status IN ('pending', 'sending') ORDER BY endpoint_id",
    )
    .bind(publicationId)
    .all<{ publication_id: number; endpoint_id: string }>();
  return results.map((r) => ({ publicationId: r.publication_id, endpointId: r.endpoint_id }));
}

/**
 * Deliveries whose queue message must have been lost: pending and due since before `dueBefore`, or sending under a
 * lease that ran out before `leaseBeforeMs` (a consumer that died mid-send).
 */
export async function strandedWebhookDeliveries(
  db: D1Database,
  dueBefore: string,
  leaseBeforeMs: number,
  limit: number,
): Promise<WebhookKey[]> {
  const { results } = await db
    .prepare(
      "SELECT publication_id, endpoint_id FROM webhook_deliveries WHERE " +
        "(status = 'pending' AND next_attempt_at <= ?1) OR (status = 'sending' AND lease_until_ms <= ?2) " +
        "ORDER BY publication_id, endpoint_id LIMIT ?3",
    )
    .bind(dueBefore, leaseBeforeMs, limit)
    .all<{ publication_id: number; endpoint_id: string }>();
  return results.map((r) => ({ publicationId: r.publication_id, endpointId: r.endpoint_id }));
}

const DELIVERY_COLUMNS =
  "d.publication_id, d.endpoint_id, d.message_id, d.event_type, d.url, d.payload, d.status, d.attempts, " +
  "d.next_attempt_at, d.first_attempt_at, d.lease_owner, d.lease_until_ms, d.delivered_at, d.detail, d.created_at";

export async function webhookDelivery(db: D1Database, key: WebhookKey): Promise<WebhookDeliveryRow | null> {
  const r = await db
    .prepare(
      `SELECT ${DELIVERY_COLUMNS}, e.status AS ep_status, e.subscriber_id, e.secret_sealed, e.previous_secret_sealed, ` +
        "e.previous_secret_until, s.status AS subscriber_status FROM webhook_deliveries d " +
        "LEFT JOIN webhook_endpoints e ON e.id = d.endpoint_id LEFT JOIN subscribers s ON s.id = e.subscriber_id " +
        "WHERE d.publication_id = ?1 AND d.endpoint_id = ?2",
    )
    .bind(key.publicationId, key.endpointId)
    .first<RawDelivery>();
  if (!r) return null;
  return {
    publicationId: r.publication_id,
    endpointId: r.endpoint_id,
    messageId: r.message_id,
    eventType: r.event_type,
    url: r.url,
    payload: r.payload,
    status: r.status,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    firstAttemptAt: r.first_attempt_at,
    leaseOwner: r.lease_owner,
    leaseUntilMs: r.lease_until_ms,
    deliveredAt: r.delivered_at,
    detail: r.detail,
    createdAt: r.created_at,
    endpoint:
      r.ep_status && r.subscriber_id && r.secret_sealed
        ? {
            status: r.ep_status,
            subscriberId: r.subscriber_id,
            subscriberStatus: r.subscriber_status,
            secretSealed: r.secret_sealed,
            previousSecretSealed: r.previous_secret_sealed,
            previousSecretUntil: r.previous_secret_until,
          }
        : null,
  };
}

/**
 * Takes the right to attempt a delivery until `untilMs`: only a pending row that is due, or a sending row whose lease
 * ran out (its consumer died mid-send). Starts the 24 h retry clock on the first attempt. False when another consumer
 * holds it, or it is not due, or it has ended: two consumers never send one delivery at once.
 */
export async function leaseWebhookDelivery(
  db: D1Database,
  key: WebhookKey,
  owner: string,
  now: string,
  nowMs: number,
  untilMs: number,
): Promise<boolean> {
  const r = await db
    .prepare(
      "UPDATE webhook_deliveries SET status = 'sending', lease_owner = ?3, lease_until_ms = ?6, " +
        "first_attempt_at = COALESCE(first_attempt_at, ?4), updated_at = ?4 " +
        "WHERE publication_id = ?1 AND endpoint_id = ?2 AND (" +
        "(status = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= ?4)) OR " +
        "(status = 'sending' AND (lease_until_ms IS NULL OR lease_until_ms <= ?5)))",
    )
    .bind(key.publicationId, key.endpointId, owner, now, nowMs, untilMs)
    .run();
  return r.meta.changes === 1;
}

/** What an attempt means for the delivery. */
export type AttemptVerdict =
  | { status: "delivered" }
  | { status: "pending"; nextAttemptAt: string; detail: string }
  | { status: "failed"; detail: string };

export interface RecordedAttempt {
  /** False when the lease was lost meanwhile: the attempt is recorded, the delivery left to its new holder. */
  applied: boolean;
  /** The endpoint's publications in a row that failed, after this one (when it failed). */
  failedPublications: number | null;
}

/**
 * Records one attempt and its verdict in one transaction: the attempt row always (every attempt is evidence); the
 * delivery and the endpoint's failure count only while `owner` still holds the lease, so a consumer whose lease ran
 * out never overwrites its successor's result. Failed: the endpoint counts one more publication in a row that
 * failed and is disabled at `disableAt`. Delivered: the count starts again.
 */
export async function recordWebhookAttempt(
  db: D1Database,
  row: Pick<WebhookDeliveryRow, "publicationId" | "endpointId" | "messageId" | "eventType">,
  owner: string,
  attempt: WebhookAttempt & { outcome: AttemptOutcome },
  verdict: AttemptVerdict,
  now: string,
  disableAt: number,
): Promise<RecordedAttempt> {
  const held =
    "EXISTS (SELECT 1 FROM webhook_deliveries WHERE publication_id = ?1 AND endpoint_id = ?2 AND lease_owner = ?3 " +
    "AND status = 'sending')";
  const statements = [
    insertAttemptStatement(db, {
      messageId: row.messageId,
      endpointId: row.endpointId,
      publicationId: row.publicationId,
      eventType: row.eventType,
      attemptedAt: now,
      httpStatus: attempt.httpStatus,
      latencyMs: Math.round(attempt.latencyMs),
      outcome: attempt.outcome,
      responseExcerpt: attempt.responseExcerpt,
      error: attempt.error,
    }),
    ...endpointStatements(db, row, owner, verdict, now, disableAt, held),
    db
      .prepare(
        "UPDATE webhook_deliveries SET status = ?4, attempts = attempts + 1, next_attempt_at = ?5, " +
          "delivered_at = CASE WHEN ?4 = 'delivered' THEN ?6 ELSE delivered_at END, detail = ?7, lease_owner = NULL, " +
          "lease_until_ms = NULL, updated_at = ?6 " +
          "WHERE publication_id = ?1 AND endpoint_id = ?2 AND lease_owner = ?3 AND status = 'sending'",
      )
      .bind(
        row.publicationId,
        row.endpointId,
        owner,
        verdict.status,
        verdict.status === "pending" ? verdict.nextAttemptAt : null,
        now,
        verdict.status === "delivered" ? null : verdict.detail,
      ),
  ];
  const results = await db.batch(statements);
  const applied = (results.at(-1)?.meta.changes ?? 0) === 1;
  const counted = verdict.status === "failed" ? (results[1]?.results[0] as { failed_publications?: number }) : null;
  return { applied, failedPublications: counted?.failed_publications ?? null };
}

function endpointStatements(
  db: D1Database,
  row: Pick<WebhookDeliveryRow, "publicationId" | "endpointId">,
  owner: string,
  verdict: AttemptVerdict,
  now: string,
  disableAt: number,
  held: string,
): D1PreparedStatement[] {
  if (verdict.status === "delivered") {
    return [
      db
        .prepare(
          `UPDATE webhook_endpoints SET failed_publications = 0, updated_at = ?4 WHERE id = ?2 AND ${held} AND ` +
            "failed_publications <> 0",
        )
        .bind(row.publicationId, row.endpointId, owner, now),
    ];
  }
  if (verdict.status === "failed") {
    return [
      failedPublicationStatement(db, held, 6).bind(row.publicationId, row.endpointId, owner, now, null, disableAt),
    ];
  }
  return [];
}

/**
 * One more publication in a row whose attempts all failed, for the endpoint ?2 while `condition` holds; the endpoint
 * is disabled when the count reaches the parameter numbered `disableAtParam`. Binds ?4 (now) as the time.
 */
function failedPublicationStatement(db: D1Database, condition: string, disableAtParam: number): D1PreparedStatement {
  const reached = `failed_publications + 1 >= ?${disableAtParam} AND status = 'active'`;
  return db.prepare(
    "UPDATE webhook_endpoints SET failed_publications = failed_publications + 1, updated_at = ?4, " +
      `status = CASE WHEN ${reached} THEN 'disabled' ELSE status END, ` +
      `disabled_at = CASE WHEN ${reached} THEN ?4 ELSE disabled_at END, ` +
      `disabled_reason = CASE WHEN ${reached} THEN 'every attempt failed for ' || CAST(?${disableAtParam} AS INTEGER) || ' publications in a row' ` +
      `ELSE disabled_reason END WHERE id = ?2 AND ${condition} RETURNING failed_publications`,
  );
}

/**
 * Ends a delivery without an attempt: its endpoint was removed or disabled, or its 24 hours ran out while no attempt
 * could be made. Only an open row that no live lease holds. With `disableAt`, the end counts against the endpoint as
 * a publication that failed (its attempts all failed), in the same transaction.
 */
export async function endWebhookDelivery(
  db: D1Database,
  key: WebhookKey,
  detail: string,
  now: string,
  nowMs: number,
  disableAt?: number,
): Promise<RecordedAttempt> {
  const open =
    "publication_id = ?1 AND endpoint_id = ?2 AND " +
    "(status = 'pending' OR (status = 'sending' AND (lease_until_ms IS NULL OR lease_until_ms <= ?5)))";
  const end = db
    .prepare(
      "UPDATE webhook_deliveries SET status = 'failed', detail = ?3, next_attempt_at = NULL, lease_owner = NULL, " +
        `lease_until_ms = NULL, updated_at = ?4 WHERE ${open}`,
    )
    .bind(key.publicationId, key.endpointId, detail, now, nowMs);
  if (disableAt === undefined) {
    const r = await end.run();
    return { applied: r.meta.changes === 1, failedPublications: null };
  }
  const count = failedPublicationStatement(db, `EXISTS (SELECT 1 FROM webhook_deliveries WHERE ${open})`, 6).bind(
    key.publicationId,
    key.endpointId,
    detail,
    now,
    nowMs,
    disableAt,
  );
  const [counted, ended] = await db.batch([count, end]);
  const row = counted?.results[0] as { failed_publications?: number } | undefined;
  return { applied: (ended?.meta.changes ?? 0) === 1, failedPublications: row?.failed_publications ?? null };
}

/** The owner of an endpoint, for the email that says it was disabled. */
export async function endpointOwner(
  db: D1Database,
  endpointId: string,
): Promise<{ url: string; subscriberId: string; email: string; locale: string; disabledAt: string | null } | null> {
  return db
    .prepare(
      "SELECT e.url, e.subscriber_id AS subscriberId, s.email, s.locale, e.disabled_at AS disabledAt " +
        "FROM webhook_endpoints e JOIN subscribers s ON s.id = e.subscriber_id WHERE e.id = ?1",
    )
    .bind(endpointId)
    .first();
}

/** The admin ledger: webhook deliveries per publication by status. */
export async function webhookDeliveryCounts(db: D1Database): Promise<Map<number, Record<string, number>>> {
  const { results } = await db
    .prepare(
      "SELECT publication_id, status, COUNT(*) AS n FROM webhook_deliveries GROUP BY publication_id, status " +
        "ORDER BY publication_id",
    )
    .all<{ publication_id: number; status: string; n: number }>();
  const out = new Map<number, Record<string, number>>();
  for (const r of results) out.set(r.publication_id, { ...(out.get(r.publication_id) ?? {}), [r.status]: r.n });
  return out;
}

export interface WebhookAttemptRow {
  attemptedAt: string;
  httpStatus: number | null;
  latencyMs: number | null;
  outcome: AttemptOutcome;
  responseExcerpt: string | null;
  error: string | null;
}

/** One publication's webhook deliveries with every attempt, for the admin ledger. */
export async function webhookDeliveriesOf(
  db: D1Database,
  publicationId: number,
): Promise<(Omit<WebhookDeliveryRow, "payload" | "endpoint" | "leaseOwner"> & { attemptLog: WebhookAttemptRow[] })[]> {
  const [deliveries, attempts] = await db.batch([
    db
      .prepare(
        `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries d WHERE d.publication_id = ?1 ORDER BY d.endpoint_id`,
      )
      .bind(publicationId),
    db
      .prepare(
        "SELECT message_id, attempted_at, http_status, latency_ms, outcome, response_excerpt, error FROM webhook_attempts " +
          "WHERE publication_id = ?1 ORDER BY id",
      )
      .bind(publicationId),
  ]);
  const byMessage = new Map<string, WebhookAttemptRow[]>();
  for (const a of (attempts?.results ?? []) as {
    message_id: string;
    attempted_at: string;
    http_status: number | null;
    latency_ms: number | null;
    outcome: AttemptOutcome;
    response_excerpt: string | null;
    error: string | null;
  }[]) {
    byMessage.set(a.message_id, [
      ...(byMessage.get(a.message_id) ?? []),
      {
        attemptedAt: a.attempted_at,
        httpStatus: a.http_status,
        latencyMs: a.latency_ms,
        outcome: a.outcome,
        responseExcerpt: a.response_excerpt,
        error: a.error,
      },
    ]);
  }
  return ((deliveries?.results ?? []) as RawDelivery[]).map((r) => ({
    publicationId: r.publication_id,
    endpointId: r.endpoint_id,
    messageId: r.message_id,
    eventType: r.event_type,
    url: r.url,
    status: r.status,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    firstAttemptAt: r.first_attempt_at,
    leaseUntilMs: r.lease_until_ms,
    deliveredAt: r.delivered_at,
    detail: r.detail,
    createdAt: r.created_at,
    attemptLog: byMessage.get(r.message_id) ?? [],
  }));
}
