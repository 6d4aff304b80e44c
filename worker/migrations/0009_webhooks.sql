-- Outbound webhooks (README "Webhooks", Standard Webhooks): a subscriber's own system is told of every publication
-- that concerns it. Times are ISO 8601 UTC strings unless named *_ms.

-- An endpoint a subscriber registered with its manage token. The signing secret ("whsec_…") is never stored in plain
-- text: `secret_sealed` is AES-GCM under a key derived from the WEBHOOK_SECRET_KEY secret (worker/webhooks/secret.ts).
CREATE TABLE webhook_endpoints (
  id TEXT PRIMARY KEY,                       -- "ep_" + random; shown to the subscriber
  subscriber_id TEXT NOT NULL,               -- the owner (subscribers.id); erased with the subscription
  url TEXT NOT NULL,                         -- https, public host (SSRF guard at registration and at every send)
  regions TEXT,                              -- JSON array of region ids; NULL = the subscriber's regions
  cohort TEXT,                               -- contract cohort; NULL = every cohort
  description TEXT,
  secret_sealed TEXT NOT NULL,
  previous_secret_sealed TEXT,               -- after a rotation the old secret signs too, until previous_secret_until
  previous_secret_until TEXT,                -- rotation + 24 h
  status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'disabled')),
  activated_at TEXT,                         -- answered a signed webhook.test with 2xx within 10 s
  test_at TEXT,                              -- last test event: when, what came back
  test_status INTEGER,
  test_detail TEXT,
  failed_publications INTEGER NOT NULL DEFAULT 0, -- publications in a row for which every attempt failed (3 = disabled)
  disabled_at TEXT,
  disabled_reason TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX webhook_endpoints_by_subscriber ON webhook_endpoints (subscriber_id);
CREATE INDEX webhook_endpoints_by_status ON webhook_endpoints (status);

-- The webhook ledger, beside the notice ledger. UNIQUE(publication, endpoint) is the exactly-once guarantee on our side;
-- `message_id` is the webhook-id every attempt carries, so a receiver de-duplicates retries. `payload` is frozen when
-- the row is created: a retry signs the same bytes with a fresh timestamp.
CREATE TABLE webhook_deliveries (
  publication_id INTEGER NOT NULL REFERENCES publications (sequence),
  endpoint_id TEXT NOT NULL,                 -- no foreign key: the ledger outlives a removed endpoint
  message_id TEXT NOT NULL UNIQUE,           -- "msg_" + random
  event_type TEXT NOT NULL,                  -- "annex-c.changed"
  url TEXT NOT NULL,                         -- where it went (snapshot)
  payload TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'delivered', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT,                      -- when a retry is due (exponential backoff for 24 h)
  lease_owner TEXT,                          -- the consumer attempting it right now (one at a time)
  lease_until_ms INTEGER,
  delivered_at TEXT,
  detail TEXT,                               -- last error, or why it failed for good
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (publication_id, endpoint_id)
);
CREATE INDEX webhook_deliveries_by_status ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_id, created_at);

-- Every attempt, test events included (publication_id NULL): what was sent where, what came back, how fast.
CREATE TABLE webhook_attempts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  message_id TEXT NOT NULL,
  endpoint_id TEXT NOT NULL,
  publication_id INTEGER,
  event_type TEXT NOT NULL,
  attempted_at TEXT NOT NULL,
  http_status INTEGER,                       -- NULL: no answer (network error, timeout, refused by the SSRF guard)
  latency_ms INTEGER,
  outcome TEXT NOT NULL CHECK (outcome IN ('delivered', 'retry', 'final')),
  response_excerpt TEXT,                     -- first 1 KB of the answer body
  error TEXT
);
CREATE INDEX webhook_attempts_by_message ON webhook_attempts (message_id, attempted_at);
CREATE INDEX webhook_attempts_by_endpoint ON webhook_attempts (endpoint_id, attempted_at);
