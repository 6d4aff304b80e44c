/**
 * The `subscription_tokens` table (migrations/0001_subscriptions.sql): confirm and manage tokens, stored only as
 * SHA-256 hashes. Tokens are written together with the subscriber they belong to (db/subscribers.ts; the manage token
 * notices carry at confirmation) or, for a subscriber who has not got that one yet, with the delivery claim
 * (db/deliveries.ts).
 */
import {
  type Preferences,
  SUBSCRIBER_COLUMNS,
  type Subscriber,
  type SubscriberRow,
  toSubscriber,
} from "./subscribers.ts";

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
