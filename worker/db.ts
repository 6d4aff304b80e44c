/**
 * Every SQL statement the subscription side of the worker runs, in one place. Prepared statements
 * only (values are always bound, never spliced), grouped with `db.batch` where several writes must
 * land together (a D1 batch is one transaction).
 */
import type { Locale, Topic } from "./config.ts";

/** D1 refuses a query with more than 100 bound parameters (Cloudflare D1 limits). */
export const D1_MAX_BOUND_PARAMETERS = 100;

export type SubscriberStatus = "pending" | "confirmed" | "unsubscribed" | "suppressed";

export interface Preferences {
  locale: Locale;
  topics: Topic[];
  regions: string[];
}

export interface Subscriber extends Preferences {
  id: string;
  email: string;
  status: SubscriberStatus;
  createdAt: string;
  updatedAt: string;
  confirmedAt: string | null;
  unsubscribedAt: string | null;
  suppressedAt: string | null;
  suppressedReason: string | null;
}

interface SubscriberRow {
  id: string;
  email: string;
  locale: Locale;
  topics: string;
  regions: string;
  status: SubscriberStatus;
  created_at: string;
  updated_at: string;
  confirmed_at: string | null;
  unsubscribed_at: string | null;
  suppressed_at: string | null;
  suppressed_reason: string | null;
}

const SUBSCRIBER_COLUMNS =
  "s.id, s.email, s.locale, s.topics, s.regions, s.status, s.created_at, s.updated_at, s.confirmed_at, " +
  "s.unsubscribed_at, s.suppressed_at, s.suppressed_reason";

function toSubscriber(row: SubscriberRow): Subscriber {
  return {
    id: row.id,
    email: row.email,
    locale: row.locale,
    topics: JSON.parse(row.topics) as Topic[],
    regions: JSON.parse(row.regions) as string[],
    status: row.status,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    confirmedAt: row.confirmed_at,
    unsubscribedAt: row.unsubscribed_at,
    suppressedAt: row.suppressed_at,
    suppressedReason: row.suppressed_reason,
  };
}

// ---------------------------------------------------------------------------------------------
// Rate limits (fixed windows)

export interface WindowCount {
  count: number;
  resetAtMs: number;
}

function windowKey(prefix: string, subject: string, windowMs: number, nowMs: number) {
  const start = Math.floor(nowMs / windowMs) * windowMs;
  return { key: `${prefix}:${subject}:${start}`, resetAtMs: start + windowMs };
}

function countStatement(db: D1Database, key: string, expiresAtMs: number): D1PreparedStatement {
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

// ---------------------------------------------------------------------------------------------
// Sign-up

export interface SignupInput {
  subscriberId: string;
  email: string;
  emailHash: string;
  preferences: Preferences;
  confirmTokenHash: string;
  now: string;
  nowMs: number;
  expiresAt: string;
  emailWindowMs: number;
}

export interface SignupResult {
  subscriberId: string;
  status: SubscriberStatus;
  /** Confirmation requests for this address in the current window, this one included. */
  emailCount: number;
}

/**
 * Records a sign-up request in one transaction, whatever the address's state: counts it against the
 * per-address limit, creates the subscriber as `pending` (or, for a pending one, takes the newest
 * preferences; a confirmed subscriber's preferences change only when the new link is confirmed) and
 * stores a confirmation token carrying the preferences asked for. The same three writes happen for a
 * new, pending, confirmed or unsubscribed address, so the work done does not tell them apart.
 */
export async function recordSignup(db: D1Database, input: SignupInput): Promise<SignupResult> {
  const { key, resetAtMs } = windowKey("email", input.emailHash, input.emailWindowMs, input.nowMs);
  const p = input.preferences;
  const [counted, upserted] = await db.batch<{ count?: number; id?: string; status?: SubscriberStatus }>([
    countStatement(db, key, resetAtMs),
    db
      .prepare(
        "INSERT INTO subscribers (id, email, locale, topics, regions, status, created_at, updated_at) " +
          "VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?6) " +
          "ON CONFLICT (email) DO UPDATE SET " +
          "locale = CASE WHEN status = 'pending' THEN excluded.locale ELSE locale END, " +
          "topics = CASE WHEN status = 'pending' THEN excluded.topics ELSE topics END, " +
          "regions = CASE WHEN status = 'pending' THEN excluded.regions ELSE regions END, " +
          "updated_at = excluded.updated_at " +
          "RETURNING id, status",
      )
      .bind(input.subscriberId, input.email, p.locale, JSON.stringify(p.topics), JSON.stringify(p.regions), input.now),
    db
      .prepare(
        "INSERT INTO subscription_tokens (token_hash, subscriber_id, kind, request, created_at, expires_at) " +
          "SELECT ?1, id, 'confirm', ?2, ?3, ?4 FROM subscribers WHERE email = ?5",
      )
      .bind(input.confirmTokenHash, JSON.stringify(p), input.now, input.expiresAt, input.email),
  ]);
  const count = counted?.results[0]?.count ?? 1;
  const row = upserted?.results[0];
  return { subscriberId: row?.id ?? input.subscriberId, status: row?.status ?? "pending", emailCount: count };
}

// ---------------------------------------------------------------------------------------------
// Tokens

export interface TokenRecord {
  kind: "confirm" | "manage";
  request: Preferences | null;
  createdAt: string;
  expiresAt: string | null;
  usedAt: string | null;
  subscriber: Subscriber;
}

/** Looks a token up by its hash, together with its subscriber. */
export async function findToken(db: D1Database, tokenHash: string): Promise<TokenRecord | null> {
  const row = await db
    .prepare(
      `SELECT t.kind, t.request, t.created_at AS t_created_at, t.expires_at, t.used_at, ${SUBSCRIBER_COLUMNS} ` +
        "FROM subscription_tokens t JOIN subscribers s ON s.id = t.subscriber_id WHERE t.token_hash = ?1",
    )
    .bind(tokenHash)
    .first<
      SubscriberRow & {
        kind: "confirm" | "manage";
        request: string | null;
        t_created_at: string;
        expires_at: string | null;
        used_at: string | null;
      }
    >();
  if (!row) return null;
  return {
    kind: row.kind,
    request: row.request ? (JSON.parse(row.request) as Preferences) : null,
    createdAt: row.t_created_at,
    expiresAt: row.expires_at,
    usedAt: row.used_at,
    subscriber: toSubscriber(row),
  };
}

/** Marks a confirmation token used; false when it already was (a concurrent or repeated confirm). */
export async function claimConfirmToken(db: D1Database, tokenHash: string, now: string): Promise<boolean> {
  const result = await db
    .prepare(
      "UPDATE subscription_tokens SET used_at = ?2 WHERE token_hash = ?1 AND kind = 'confirm' AND used_at IS NULL",
    )
    .bind(tokenHash, now)
    .run();
  return result.meta.changes === 1;
}

/**
 * Confirms a subscription with the preferences its link carried and stores a new manage token.
 * A suppressed address (bounce or complaint) stays suppressed.
 */
export async function confirmSubscriber(
  db: D1Database,
  subscriberId: string,
  preferences: Preferences,
  manageTokenHash: string,
  now: string,
): Promise<void> {
  await db.batch([
    db
      .prepare(
        "UPDATE subscribers SET " +
          "confirmed_at = CASE WHEN status = 'confirmed' THEN confirmed_at ELSE ?5 END, " +
          "status = CASE WHEN status = 'suppressed' THEN status ELSE 'confirmed' END, " +
          "unsubscribed_at = NULL, locale = ?2, topics = ?3, regions = ?4, updated_at = ?5 WHERE id = ?1",
      )
      .bind(
        subscriberId,
        preferences.locale,
        JSON.stringify(preferences.topics),
        JSON.stringify(preferences.regions),
        now,
      ),
    insertManageToken(db, subscriberId, manageTokenHash, now),
  ]);
}

function insertManageToken(db: D1Database, subscriberId: string, tokenHash: string, now: string) {
  return db
    .prepare(
      "INSERT INTO subscription_tokens (token_hash, subscriber_id, kind, created_at) VALUES (?1, ?2, 'manage', ?3)",
    )
    .bind(tokenHash, subscriberId, now);
}

/** Splits rows so that no statement binds more than D1_MAX_BOUND_PARAMETERS values. */
export function chunksForParameters<T>(rows: readonly T[], parametersPerRow: number): T[][] {
  const size = Math.floor(D1_MAX_BOUND_PARAMETERS / parametersPerRow);
  if (size < 1)
    throw new RangeError(`a row with ${parametersPerRow} parameters exceeds D1's limit of ${D1_MAX_BOUND_PARAMETERS}`);
  const chunks: T[][] = [];
  for (let i = 0; i < rows.length; i += size) chunks.push(rows.slice(i, i + size));
  return chunks;
}

/**
 * Stores manage tokens for many subscribers at once (e.g. one per email of a mailing): multi-row
 * INSERTs of at most 33 rows (3 parameters each, under D1's 100), all sent as one batch.
 */
export async function insertManageTokens(
  db: D1Database,
  entries: readonly { subscriberId: string; tokenHash: string }[],
  now: string,
): Promise<void> {
  if (entries.length === 0) return;
  const statements = chunksForParameters(entries, 3).map((chunk) =>
    db
      .prepare(
        `INSERT INTO subscription_tokens (token_hash, subscriber_id, kind, created_at) VALUES ${chunk.map(() => "(?, ?, 'manage', ?)").join(", ")}`,
      )
      .bind(...chunk.flatMap((e) => [e.tokenHash, e.subscriberId, now])),
  );
  await db.batch(statements);
}

// ---------------------------------------------------------------------------------------------
// Managing a subscription

export async function updatePreferences(
  db: D1Database,
  subscriberId: string,
  patch: Partial<Preferences>,
  now: string,
): Promise<void> {
  await db
    .prepare(
      "UPDATE subscribers SET locale = COALESCE(?2, locale), topics = COALESCE(?3, topics), " +
        "regions = COALESCE(?4, regions), updated_at = ?5 WHERE id = ?1",
    )
    .bind(
      subscriberId,
      patch.locale ?? null,
      patch.topics ? JSON.stringify(patch.topics) : null,
      patch.regions ? JSON.stringify(patch.regions) : null,
      now,
    )
    .run();
}

/** Unsubscribes (pending or confirmed → unsubscribed); suppressed and unsubscribed rows are left as they are. */
export async function unsubscribe(db: D1Database, subscriberId: string, now: string): Promise<void> {
  await db
    .prepare(
      "UPDATE subscribers SET status = 'unsubscribed', unsubscribed_at = ?2, updated_at = ?2 " +
        "WHERE id = ?1 AND status IN ('pending', 'confirmed')",
    )
    .bind(subscriberId, now)
    .run();
}

/** Re-subscribes a subscriber who had confirmed before and later unsubscribed. */
export async function resubscribe(db: D1Database, subscriberId: string, now: string): Promise<void> {
  await db
    .prepare(
      "UPDATE subscribers SET status = 'confirmed', unsubscribed_at = NULL, updated_at = ?2 " +
        "WHERE id = ?1 AND status = 'unsubscribed'",
    )
    .bind(subscriberId, now)
    .run();
}

/**
 * Erases everything stored about a subscriber (GDPR art. 17): the row, all its tokens (so every manage
 * link stops working) and its per-address rate-limit counters. A later sign-up starts from scratch.
 */
export async function eraseSubscriber(db: D1Database, subscriberId: string, emailHash: string): Promise<void> {
  await db.batch([
    db.prepare("DELETE FROM subscription_tokens WHERE subscriber_id = ?1").bind(subscriberId),
    db.prepare("DELETE FROM subscribers WHERE id = ?1").bind(subscriberId),
    // A range instead of LIKE: D1 refuses LIKE patterns longer than 50 bytes. ";" sorts right after ":".
    db
      .prepare("DELETE FROM rate_limits WHERE key >= ?1 AND key < ?2")
      .bind(`email:${emailHash}:`, `email:${emailHash};`),
  ]);
}

export interface TokenSummary {
  kind: "confirm" | "manage";
  createdAt: string;
  expiresAt: string | null;
  usedAt: string | null;
}

/** The tokens issued to a subscriber, without their hashes (for the GDPR export). */
export async function listTokens(db: D1Database, subscriberId: string): Promise<TokenSummary[]> {
  const { results } = await db
    .prepare(
      "SELECT kind, created_at, expires_at, used_at FROM subscription_tokens WHERE subscriber_id = ?1 ORDER BY created_at",
    )
    .bind(subscriberId)
    .all<{ kind: "confirm" | "manage"; created_at: string; expires_at: string | null; used_at: string | null }>();
  return results.map((r) => ({ kind: r.kind, createdAt: r.created_at, expiresAt: r.expires_at, usedAt: r.used_at }));
}

export async function findSubscriberByEmail(db: D1Database, email: string): Promise<Subscriber | null> {
  const row = await db
    .prepare(`SELECT ${SUBSCRIBER_COLUMNS} FROM subscribers s WHERE s.email = ?1`)
    .bind(email)
    .first<SubscriberRow>();
  return row ? toSubscriber(row) : null;
}

// ---------------------------------------------------------------------------------------------
// Housekeeping (cron)

export interface PurgeResult {
  subscribers: number;
  tokens: number;
  rateLimits: number;
}

/**
 * Deletes sign-ups never confirmed whose last request is older than `cutoff` (7 days, DESIGN), confirm
 * tokens past their expiry, and rate-limit windows that have ended.
 */
export async function purgeStale(db: D1Database, cutoff: string, now: string, nowMs: number): Promise<PurgeResult> {
  const [tokensOfPurged, subscribers, tokens, rateLimits] = await db.batch([
    db
      .prepare(
        "DELETE FROM subscription_tokens WHERE subscriber_id IN " +
          "(SELECT id FROM subscribers WHERE status = 'pending' AND updated_at < ?1)",
      )
      .bind(cutoff),
    db.prepare("DELETE FROM subscribers WHERE status = 'pending' AND updated_at < ?1").bind(cutoff),
    db.prepare("DELETE FROM subscription_tokens WHERE kind = 'confirm' AND expires_at < ?1").bind(now),
    db.prepare("DELETE FROM rate_limits WHERE expires_at_ms <= ?1").bind(nowMs),
  ]);
  return {
    subscribers: subscribers?.meta.changes ?? 0,
    tokens: (tokensOfPurged?.meta.changes ?? 0) + (tokens?.meta.changes ?? 0),
    rateLimits: rateLimits?.meta.changes ?? 0,
  };
}

// ---------------------------------------------------------------------------------------------
// Outbox transport

export interface OutboxEmail {
  id: number;
  to: string;
  subject: string;
  html: string;
  text: string;
  headers: Record<string, string>;
  createdAt: string;
}

export interface OutboxInsert {
  to: string;
  subject: string;
  html: string;
  text: string;
  headers: Record<string, string>;
  idempotencyKey: string | null;
}

/** Stores emails in one batch and returns their outbox ids, in order. */
export async function insertOutbox(db: D1Database, emails: readonly OutboxInsert[], now: string): Promise<number[]> {
  if (emails.length === 0) return [];
  const results = await db.batch<{ id: number }>(
    emails.map((e) =>
      db
        .prepare(
          "INSERT INTO outbox (to_address, subject, html, text, headers, idempotency_key, created_at) " +
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
        )
        .bind(e.to, e.subject, e.html, e.text, JSON.stringify(e.headers), e.idempotencyKey, now),
    ),
  );
  return results.map((r) => r.results[0]?.id ?? 0);
}

/** Outbox ids already stored under an idempotency key (empty when the key is new). */
export async function outboxIdsForKey(db: D1Database, key: string): Promise<number[]> {
  const { results } = await db
    .prepare("SELECT id FROM outbox WHERE idempotency_key = ?1 ORDER BY id")
    .bind(key)
    .all<{ id: number }>();
  return results.map((r) => r.id);
}

/** Newest first; optionally only the emails to one address. */
export async function listOutbox(db: D1Database, options: { to?: string; limit: number }): Promise<OutboxEmail[]> {
  const statement = options.to
    ? db
        .prepare(
          "SELECT id, to_address, subject, html, text, headers, created_at FROM outbox WHERE to_address = ?1 " +
            "ORDER BY id DESC LIMIT ?2",
        )
        .bind(options.to, options.limit)
    : db
        .prepare(
          "SELECT id, to_address, subject, html, text, headers, created_at FROM outbox ORDER BY id DESC LIMIT ?1",
        )
        .bind(options.limit);
  const { results } = await statement.all<{
    id: number;
    to_address: string;
    subject: string;
    html: string;
    text: string;
    headers: string;
    created_at: string;
  }>();
  return results.map((r) => ({
    id: r.id,
    to: r.to_address,
    subject: r.subject,
    html: r.html,
    text: r.text,
    headers: JSON.parse(r.headers) as Record<string, string>,
    createdAt: r.created_at,
  }));
}

export async function clearOutbox(db: D1Database): Promise<void> {
  await db.prepare("DELETE FROM outbox").run();
}
