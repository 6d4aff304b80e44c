/**
 * The `webhook_endpoints` table and the subscriber's view of the webhook ledger (migrations/0009_webhooks.sql): the
 * endpoints a subscriber registered, their test results, and — read only — their deliveries and attempts. Every query
 * that names an endpoint also names its owner, so one subscriber's token can never read, test or remove another's
 * endpoint, nor learn that an id exists (README "Webhooks").
 */

/** At most this many endpoints per subscriber (README "Webhooks"); enforced in the INSERT itself, not before it. */
export const MAX_ENDPOINTS_PER_SUBSCRIBER = 10;
/** Deliveries listed per endpoint by GET /api/webhooks/endpoints and the manage page. */
export const RECENT_DELIVERIES = 5;

export type EndpointStatus = "pending" | "active" | "disabled";

export interface WebhookEndpoint {
  id: string;
  subscriberId: string;
  url: string;
  /** Region ids; null = the subscriber's regions. */
  regions: string[] | null;
  /** Contract cohort; null = every cohort. */
  cohort: string | null;
  description: string | null;
  secretSealed: string;
  previousSecretSealed: string | null;
  previousSecretUntil: string | null;
  status: EndpointStatus;
  activatedAt: string | null;
  testAt: string | null;
  testStatus: number | null;
  testDetail: string | null;
  failedPublications: number;
  disabledAt: string | null;
  disabledReason: string | null;
  createdAt: string;
  updatedAt: string;
}

interface EndpointRow {
  id: string;
  subscriber_id: string;
  url: string;
  regions: string | null;
  cohort: string | null;
  description: string | null;
  secret_sealed: string;
  previous_secret_sealed: string | null;
  previous_secret_until: string | null;
  status: EndpointStatus;
  activated_at: string | null;
  test_at: string | null;
  test_status: number | null;
  test_detail: string | null;
  failed_publications: number;
  disabled_at: string | null;
  disabled_reason: string | null;
  created_at: string;
  updated_at: string;
}

const ENDPOINT_COLUMNS =
  "id, subscriber_id, url, regions, cohort, description, secret_sealed, previous_secret_sealed, previous_secret_until, " +
  "status, activated_at, test_at, test_status, test_detail, failed_publications, disabled_at, disabled_reason, " +
  "created_at, updated_at";

function toEndpoint(r: EndpointRow): WebhookEndpoint {
  return {
    id: r.id,
    subscriberId: r.subscriber_id,
    url: r.url,
    regions: r.regions === null ? null : (JSON.parse(r.regions) as string[]),
    cohort: r.cohort,
    description: r.description,
    secretSealed: r.secret_sealed,
    previousSecretSealed: r.previous_secret_sealed,
    previousSecretUntil: r.previous_secret_until,
    status: r.status,
    activatedAt: r.activated_at,
    testAt: r.test_at,
    testStatus: r.test_status,
    testDetail: r.test_detail,
    failedPublications: r.failed_publications,
    disabledAt: r.disabled_at,
    disabledReason: r.disabled_reason,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export type NewEndpoint = Pick<
  WebhookEndpoint,
  "id" | "subscriberId" | "url" | "regions" | "cohort" | "description" | "secretSealed"
> & { now: string };

/**
 * Inserts a pending endpoint unless its owner already has MAX_ENDPOINTS_PER_SUBSCRIBER: the count and the insert are
 * one statement, so two registrations at once cannot both pass a cap of 10 at 9. False when the cap was reached.
 */
export async function insertEndpoint(db: D1Database, e: NewEndpoint): Promise<boolean> {
  const result = await db
    .prepare(
      "INSERT INTO webhook_endpoints (id, subscriber_id, url, regions, cohort, description, secret_sealed, status, " +
        "created_at, updated_at) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', ?8, ?8 " +
        "WHERE (SELECT COUNT(*) FROM webhook_endpoints WHERE subscriber_id = ?2) < ?9",
    )
    .bind(
      e.id,
      e.subscriberId,
      e.url,
      e.regions === null ? null : JSON.stringify(e.regions),
      e.cohort,
      e.description,
      e.secretSealed,
      e.now,
      MAX_ENDPOINTS_PER_SUBSCRIBER,
    )
    .run();
  return result.meta.changes === 1;
}

/** The subscriber's endpoints, oldest first. */
export async function endpointsOfSubscriber(db: D1Database, subscriberId: string): Promise<WebhookEndpoint[]> {
  const { results } = await db
    .prepare(`SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE subscriber_id = ?1 ORDER BY created_at, id`)
    .bind(subscriberId)
    .all<EndpointRow>();
  return results.map(toEndpoint);
}

/** One endpoint of this subscriber; null for an unknown id and for another subscriber's id alike. */
export async function findEndpoint(db: D1Database, subscriberId: string, id: string): Promise<WebhookEndpoint | null> {
  const row = await db
    .prepare(`SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = ?1 AND subscriber_id = ?2`)
    .bind(id, subscriberId)
    .first<EndpointRow>();
  return row ? toEndpoint(row) : null;
}

/** Removes one endpoint of this subscriber; false when there was none. Its ledger rows stay (they are evidence). */
export async function deleteEndpoint(db: D1Database, subscriberId: string, id: string): Promise<boolean> {
  const result = await db
    .prepare("DELETE FROM webhook_endpoints WHERE id = ?1 AND subscriber_id = ?2")
    .bind(id, subscriberId)
    .run();
  return result.meta.changes === 1;
}

/** GDPR art. 17 erasure: every endpoint of the subscriber goes with the subscription. */
export async function deleteEndpointsOfSubscriber(db: D1Database, subscriberId: string): Promise<void> {
  await db.prepare("DELETE FROM webhook_endpoints WHERE subscriber_id = ?1").bind(subscriberId).run();
}

export interface Rotation {
  secretSealed: string;
  /** The secret that signed until now, still valid until `previousUntil`. */
  previousSecretSealed: string;
  previousUntil: string;
  now: string;
}

/**
 * Replaces the secret, keeping the one it replaces as the previous secret. Written only against the secret it was
 * decided on: of two rotations at once one wins, and the loser's new secret (never shown) is not half-stored.
 */
export async function rotateEndpointSecret(
  db: D1Database,
  subscriberId: string,
  id: string,
  rotation: Rotation,
): Promise<boolean> {
  const result = await db
    .prepare(
      "UPDATE webhook_endpoints SET secret_sealed = ?3, previous_secret_sealed = ?4, previous_secret_until = ?5, " +
        "updated_at = ?6 WHERE id = ?1 AND subscriber_id = ?2 AND secret_sealed = ?4",
    )
    .bind(id, subscriberId, rotation.secretSealed, rotation.previousSecretSealed, rotation.previousUntil, rotation.now)
    .run();
  return result.meta.changes === 1;
}

/** One row of `webhook_attempts`, test events included (publicationId null). */
export interface AttemptRecord {
  messageId: string;
  endpointId: string;
  publicationId: number | null;
  eventType: string;
  attemptedAt: string;
  httpStatus: number | null;
  latencyMs: number;
  outcome: "delivered" | "retry" | "final";
  responseExcerpt: string | null;
  error: string | null;
}

export interface TestResult {
  at: string;
  status: number | null;
  detail: string;
  /** Answered 2xx within the timeout: the endpoint becomes (or stays) active. */
  passed: boolean;
}

/**
 * Stores a test event's result on the endpoint and its attempt in the ledger, in one batch. A passed test activates
 * a pending endpoint and re-activates a disabled one (its owner fixed it and proved it); a failed test changes only
 * the test columns, so an active endpoint is not taken off deliveries by a test that timed out once.
 */
export async function recordTest(
  db: D1Database,
  endpointId: string,
  result: TestResult,
  attempt: AttemptRecord,
): Promise<void> {
  const passed = result.passed ? 1 : 0;
  await db.batch([
    db
      .prepare(
        "UPDATE webhook_endpoints SET test_at = ?2, test_status = ?3, test_detail = ?4, updated_at = ?2, " +
          "status = CASE WHEN ?5 = 1 THEN 'active' ELSE status END, " +
          "activated_at = CASE WHEN ?5 = 1 THEN COALESCE(activated_at, ?2) ELSE activated_at END, " +
          "failed_publications = CASE WHEN ?5 = 1 THEN 0 ELSE failed_publications END, " +
          "disabled_at = CASE WHEN ?5 = 1 THEN NULL ELSE disabled_at END, " +
          "disabled_reason = CASE WHEN ?5 = 1 THEN NULL ELSE disabled_reason END " +
          "WHERE id = ?1",
      )
      .bind(endpointId, result.at, result.status, result.detail, passed),
    insertAttemptStatement(db, attempt),
  ]);
}

/** One row of webhook_attempts: a test event (here) or a publication's delivery (db/webhook-deliveries.ts). */
export function insertAttemptStatement(db: D1Database, a: AttemptRecord): D1PreparedStatement {
  return db
    .prepare(
      "INSERT INTO webhook_attempts (message_id, endpoint_id, publication_id, event_type, attempted_at, http_status, " +
        "latency_ms, outcome, response_excerpt, error) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )
    .bind(
      a.messageId,
      a.endpointId,
      a.publicationId,
      a.eventType,
      a.attemptedAt,
      a.httpStatus,
      a.latencyMs,
      a.outcome,
      a.responseExcerpt,
      a.error,
    );
}

/** A delivery as its endpoint's owner sees it (no payload: that is the public Annex C, served elsewhere). */
export interface DeliverySummary {
  endpointId: string;
  publicationId: number;
  messageId: string;
  eventType: string;
  status: "pending" | "sending" | "delivered" | "failed";
  attempts: number;
  nextAttemptAt: string | null;
  deliveredAt: string | null;
  detail: string | null;
  createdAt: string;
}

const DELIVERY_COLUMNS =
  "endpoint_id AS endpointId, publication_id AS publicationId, message_id AS messageId, event_type AS eventType, " +
  "status, attempts, next_attempt_at AS nextAttemptAt, delivered_at AS deliveredAt, detail, created_at AS createdAt";

/** The newest RECENT_DELIVERIES deliveries of each of the subscriber's endpoints, newest first. */
export async function recentDeliveries(db: D1Database, subscriberId: string): Promise<DeliverySummary[]> {
  const { results } = await db
    .prepare(
      `SELECT ${DELIVERY_COLUMNS} FROM (SELECT d.*, ROW_NUMBER() OVER (PARTITION BY d.endpoint_id ` +
        "ORDER BY d.created_at DESC, d.publication_id DESC) AS n FROM webhook_deliveries d " +
        "WHERE d.endpoint_id IN (SELECT id FROM webhook_endpoints WHERE subscriber_id = ?1)) " +
        "WHERE n <= ?2 ORDER BY createdAt DESC, publicationId DESC",
    )
    .bind(subscriberId, RECENT_DELIVERIES)
    .all<DeliverySummary>();
  return results;
}

/** GDPR art. 15 access: every delivery and attempt (test events included) of the subscriber's endpoints. */
export async function ledgerOfSubscriber(
  db: D1Database,
  subscriberId: string,
): Promise<{ deliveries: DeliverySummary[]; attempts: AttemptRecord[] }> {
  const owned = "SELECT id FROM webhook_endpoints WHERE subscriber_id = ?1";
  const [deliveries, attempts] = await db.batch<Record<string, unknown>>([
    db
      .prepare(`SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE endpoint_id IN (${owned}) ORDER BY created_at`)
      .bind(subscriberId),
    db
      .prepare(
        "SELECT message_id AS messageId, endpoint_id AS endpointId, publication_id AS publicationId, " +
          "event_type AS eventType, attempted_at AS attemptedAt, http_status AS httpStatus, latency_ms AS latencyMs, " +
          `outcome, response_excerpt AS responseExcerpt, error FROM webhook_attempts WHERE endpoint_id IN (${owned}) ` +
          "ORDER BY attempted_at, id",
      )
      .bind(subscriberId),
  ]);
  return {
    deliveries: (deliveries?.results ?? []) as unknown as DeliverySummary[],
    attempts: (attempts?.results ?? []) as unknown as AttemptRecord[],
  };
}
