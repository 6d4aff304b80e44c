-- Subscriptions: people who asked for change notices, the tokens in their emails, sign-up rate limits
-- and the development outbox. Times are ISO 8601 UTC strings (comparable as text) unless named *_ms.

CREATE TABLE subscribers (
  id TEXT PRIMARY KEY,                       -- random UUID, never shown
  email TEXT NOT NULL UNIQUE,                -- normalised: trimmed, lower-case, IDN domain as punycode
  locale TEXT NOT NULL CHECK (locale IN ('da', 'en')),
  topics TEXT NOT NULL,                      -- JSON array: "subprocessors", "dpa"
  regions TEXT NOT NULL,                     -- JSON array of region ids from content/vendor.yaml
  status TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'unsubscribed', 'suppressed')),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  confirmed_at TEXT,
  unsubscribed_at TEXT,
  suppressed_at TEXT,
  suppressed_reason TEXT                     -- e.g. "bounce", "complaint" (set by the Resend webhook)
);
CREATE INDEX subscribers_by_status ON subscribers (status, created_at);

-- Only the SHA-256 of a token is stored; the token itself exists only in the email that carried it.
CREATE TABLE subscription_tokens (
  token_hash TEXT PRIMARY KEY,               -- lower-case hex SHA-256 of the token
  subscriber_id TEXT NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('confirm', 'manage')),
  request TEXT,                              -- confirm tokens: the preferences asked for (JSON)
  created_at TEXT NOT NULL,
  expires_at TEXT,                           -- confirm: created + 48 h; manage: NULL (never expires)
  used_at TEXT                               -- confirm: when it was used (confirming twice is a success)
);
CREATE INDEX subscription_tokens_by_subscriber ON subscription_tokens (subscriber_id, kind);

-- Fixed-window counters for sign-up limits. Keys never hold an address: "ip:<ip>:<minute>",
-- "email:<sha256 of address>:<hour>".
CREATE TABLE rate_limits (
  key TEXT PRIMARY KEY,
  count INTEGER NOT NULL,
  expires_at_ms INTEGER NOT NULL
);
CREATE INDEX rate_limits_by_expiry ON rate_limits (expires_at_ms);

-- The outbox transport (EMAIL_TRANSPORT=outbox): emails "sent" in local development and tests.
CREATE TABLE outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  to_address TEXT NOT NULL,
  subject TEXT NOT NULL,
  html TEXT NOT NULL,
  text TEXT NOT NULL,
  headers TEXT NOT NULL,                     -- JSON object
  idempotency_key TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX outbox_by_address ON outbox (to_address);
CREATE INDEX outbox_by_idempotency_key ON outbox (idempotency_key);
