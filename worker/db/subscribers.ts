/**
 * The `subscribers` table (migrations/0001_subscriptions.sql): sign-up, confirmation, preferences, unsubscribe,
 * suppression, erasure and the purge of sign-ups never confirmed. Prepared statements only (values are always bound,
 * never spliced), grouped with `db.batch` where several writes must land together (a D1 batch is one transaction);
 * a write that must also touch tokens or rate limits (sign-up, confirm, erase, purge) stays one batch here.
 */
import type { NoticeTopic } from "../../domain/notice.ts";
import type { Locale } from "../../domain/schema/common.ts";
import { countStatement, windowKey } from "./rate-limits.ts";

export type SubscriberStatus = "pending" | "confirmed" | "unsubscribed" | "suppressed";

export interface Preferences {
  locale: Locale;
  topics: NoticeTopic[];
  regions: string[];
  /** The contract cohort stated (vendor.yaml); null = "I don't know". Absent in links sent before it was asked. */
  cohort?: string | null | undefined;
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

export interface SubscriberRow {
  id: string;
  email: string;
  locale: Locale;
  topics: string;
  regions: string;
  cohort: string | null;
  status: SubscriberStatus;
  created_at: string;
  updated_at: string;
  confirmed_at: string | null;
  unsubscribed_at: string | null;
  suppressed_at: string | null;
  suppressed_reason: string | null;
}

export const SUBSCRIBER_COLUMNS =
  "s.id, s.email, s.locale, s.topics, s.regions, s.cohort, s.status, s.created_at, s.updated_at, s.confirmed_at, " +
  "s.unsubscribed_at, s.suppressed_at, s.suppressed_reason";

export function toSubscriber(row: SubscriberRow): Subscriber {
  return {
    id: row.id,
    email: row.email,
    locale: row.locale,
    topics: JSON.parse(row.topics) as NoticeTopic[],
    regions: JSON.parse(row.regions) as string[],
    cohort: row.cohort,
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
        "INSERT INTO subscribers (id, email, locale, topics, regions, cohort, status, created_at, updated_at) " +
          "VALUES (?1, ?2, ?3, ?4, ?5, ?7, 'pending', ?6, ?6) " +
          "ON CONFLICT (email) DO UPDATE SET " +
          "locale = CASE WHEN status = 'pending' THEN excluded.locale ELSE locale END, " +
          "topics = CASE WHEN status = 'pending' THEN excluded.topics ELSE topics END, " +
          "regions = CASE WHEN status = 'pending' THEN excluded.regions ELSE regions END, " +
          "cohort = CASE WHEN status = 'pending' THEN excluded.cohort ELSE cohort END, " +
          "updated_at = excluded.updated_at " +
          "RETURNING id, status",
      )
      .bind(
        input.subscriberId,
        input.email,
        p.locale,
        JSON.stringify(p.topics),
        JSON.stringify(p.regions),
        input.now,
        p.cohort ?? null,
      ),
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
// Confirmation

/**
 * Confirms a subscription with the preferences its link carried and stores a new manage token (the welcome email's)
 * and the one every notice to this subscriber carries (notices/engine/tokens.ts; already stored when confirming
 * again), so the fan-out writes no token. A suppressed address (bounce or complaint) stays suppressed.
 */
export async function confirmSubscriber(
  db: D1Database,
  subscriberId: string,
  preferences: Preferences,
  manageTokenHash: string,
  noticeTokenHash: string,
  now: string,
): Promise<void> {
  await db.batch([
    db
      .prepare(
        "UPDATE subscribers SET " +
          "confirmed_at = CASE WHEN status = 'confirmed' THEN confirmed_at ELSE ?5 END, " +
          "status = CASE WHEN status = 'suppressed' THEN status ELSE 'confirmed' END, " +
          "unsubscribed_at = NULL, locale = ?2, topics = ?3, regions = ?4, cohort = ?6, notice_token_hash = ?7, " +
          "updated_at = ?5 WHERE id = ?1",
      )
      .bind(
        subscriberId,
        preferences.locale,
        JSON.stringify(preferences.topics),
        JSON.stringify(preferences.regions),
        now,
        preferences.cohort ?? null,
        noticeTokenHash,
      ),
    insertManageToken(db, subscriberId, manageTokenHash, now),
    insertManageToken(db, subscriberId, noticeTokenHash, now),
  ]);
}

/** OR IGNORE: the notices' manage token is derived (notices/engine/tokens.ts), and confirming again stores it again. */
export function insertManageToken(db: D1Database, subscriberId: string, tokenHash: string, now: string) {
  return db
    .prepare(
      "INSERT OR IGNORE INTO subscription_tokens (token_hash, subscriber_id, kind, created_at) " +
        "VALUES (?1, ?2, 'manage', ?3)",
    )
    .bind(tokenHash, subscriberId, now);
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
        "regions = COALESCE(?4, regions), cohort = CASE WHEN ?6 THEN ?7 ELSE cohort END, updated_at = ?5 WHERE id = ?1",
    )
    .bind(
      subscriberId,
      patch.locale ?? null,
      patch.topics ? JSON.stringify(patch.topics) : null,
      patch.regions ? JSON.stringify(patch.regions) : null,
      now,
      // null is a value here ("I don't know"), so whether the cohort changes is its own parameter.
      patch.cohort !== undefined ? 1 : 0,
      patch.cohort ?? null,
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

export async function findSubscriberByEmail(db: D1Database, email: string): Promise<Subscriber | null> {
  const row = await db
    .prepare(`SELECT ${SUBSCRIBER_COLUMNS} FROM subscribers s WHERE s.email = ?1`)
    .bind(email)
    .first<SubscriberRow>();
  return row ? toSubscriber(row) : null;
}

/** Confirmed subscribers with their preferences: the input of the fan-out planner. */
export async function confirmedSubscribers(
  db: D1Database,
): Promise<{ id: string; locale: Locale; topics: NoticeTopic[]; regions: string[]; cohort?: string }[]> {
  const { results } = await db
    .prepare("SELECT id, locale, topics, regions, cohort FROM subscribers WHERE status = 'confirmed'")
    .all<{ id: string; locale: Locale; topics: string; regions: string; cohort: string | null }>();
  return results.map((r) => ({
    id: r.id,
    locale: r.locale,
    topics: JSON.parse(r.topics) as NoticeTopic[],
    regions: JSON.parse(r.regions) as string[],
    ...(r.cohort !== null ? { cohort: r.cohort } : {}),
  }));
}

/** Suppresses an address (bounce, complaint): it gets no further email. Unknown addresses are ignored. */
export async function suppressAddress(db: D1Database, email: string, reason: string, now: string): Promise<number> {
  const r = await db
    .prepare(
      "UPDATE subscribers SET status = 'suppressed', suppressed_at = COALESCE(suppressed_at, ?3), " +
        "suppressed_reason = ?2, updated_at = ?3 WHERE email = ?1 AND status <> 'suppressed'",
    )
    .bind(email, reason, now)
    .run();
  return r.meta.changes;
}

// ---------------------------------------------------------------------------------------------
// Housekeeping (cron)

export interface PurgeResult {
  subscribers: number;
  tokens: number;
  rateLimits: number;
}

/**
 * Deletes sign-ups never confirmed whose last request is older than `cutoff` (7 days, docs/architecture.md "Subscriptions"), confirm
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
