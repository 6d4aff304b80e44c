-- Change notices (docs/architecture.md "Notices"): publications (a public hash chain), the frozen fan-out plan, one delivery row per
-- (publication, subscriber) — the notice ledger — objections, dead letters and the provider send-rate slot.
-- Times are ISO 8601 UTC strings unless named *_ms.

-- One row per recorded Annex C. `sequence` is the position in the chain; UNIQUE(sequence) is what stops two concurrent
-- publish runs from both recording the same change (the second INSERT fails or matches no row, see publish.ts).
CREATE TABLE publications (
  sequence INTEGER PRIMARY KEY,              -- 1, 2, 3 …; also the public id
  fingerprint TEXT NOT NULL,                 -- SHA-256 of the canonical snapshot (/annex-c.json)
  previous_fingerprint TEXT,                 -- NULL only for the baseline: the hash chain
  kind TEXT NOT NULL CHECK (kind IN ('baseline', 'notice')),
  published_at TEXT NOT NULL,
  document TEXT NOT NULL,                    -- the /annex-c.json recorded, as served
  diff TEXT NOT NULL,                        -- JSON AnnexCDiff against the previous publication (all regions)
  announced TEXT NOT NULL,                   -- JSON array of change ids this publication announces
  recipient_count INTEGER NOT NULL DEFAULT 0,
  fanout_enqueued_at TEXT,                   -- set once every chunk is on the queue
  CHECK ((kind = 'baseline') = (previous_fingerprint IS NULL))
);
CREATE UNIQUE INDEX publications_chain ON publications (previous_fingerprint) WHERE previous_fingerprint IS NOT NULL;

-- The fan-out plan, frozen when the publication is recorded: who gets this notice, cut into provider batches.
CREATE TABLE fanout_chunks (
  publication_id INTEGER NOT NULL REFERENCES publications (sequence),
  chunk INTEGER NOT NULL,
  subscriber_ids TEXT NOT NULL,              -- JSON array, at most 100 (Resend batch limit)
  enqueued_at TEXT,
  PRIMARY KEY (publication_id, chunk)
);

-- The notice ledger. UNIQUE(publication, subscriber) is the exactly-once guarantee on our side; the Idempotency-Key
-- (batch_key) is the guarantee on the provider's side when a call is retried after an unknown outcome.
CREATE TABLE deliveries (
  publication_id INTEGER NOT NULL REFERENCES publications (sequence),
  subscriber_id TEXT NOT NULL,               -- no foreign key: the ledger outlives an erased subscription
  chunk INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'suppressed', 'dead', 'stuck')),
  email TEXT,                                -- address the notice went to (snapshot at claim time)
  locale TEXT,                               -- preferences at claim time: a retry renders the same email
  topics TEXT,
  regions TEXT,
  batch_key TEXT,                            -- Idempotency-Key of the provider call carrying this delivery
  claimed_at TEXT,                           -- first attempt; the objection deadline in the email counts from here
  deadline TEXT,                             -- objection deadline quoted in the email (DPA 5.3)
  attempts INTEGER NOT NULL DEFAULT 0,
  lease_owner TEXT,                          -- the consumer sending this batch key right now (one at a time)
  lease_until_ms INTEGER,
  sent_at TEXT,                              -- provider accepted the email
  message_id TEXT,                           -- provider's id for the email
  detail TEXT,                               -- last error, or why it was suppressed / dead / stuck
  updated_at TEXT NOT NULL,
  PRIMARY KEY (publication_id, subscriber_id)
);
CREATE INDEX deliveries_by_status ON deliveries (publication_id, status);
CREATE INDEX deliveries_by_key ON deliveries (batch_key);

-- Messages the consumer gave up on after its retries: visible to the vendor, never silently dropped.
CREATE TABLE dead_letters (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  publication_id INTEGER NOT NULL,
  chunk INTEGER NOT NULL,
  subscriber_ids TEXT NOT NULL,              -- JSON array of the deliveries that ended dead
  reason TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  created_at TEXT NOT NULL
);

-- Objections to a notice (DPA 5.3). One per (publication, subscriber) is not enforced: a customer may add to theirs.
CREATE TABLE objections (
  id TEXT PRIMARY KEY,
  publication_id INTEGER NOT NULL REFERENCES publications (sequence),
  subscriber_id TEXT NOT NULL,
  email TEXT NOT NULL,
  organisation TEXT NOT NULL,
  reason TEXT NOT NULL,
  deadline TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX objections_by_publication ON objections (publication_id);

-- Provider webhook events already handled (Svix message id): a duplicate delivery of a webhook is a no-op.
CREATE TABLE webhook_events (
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  received_at TEXT NOT NULL
);

-- When provider calls were let through, per provider: every isolate and consumer invocation shares one
-- RESEND_MAX_RPS budget, judged on the moments calls actually left (see d1RateLimiter in db-notices.ts).
CREATE TABLE send_log (
  name TEXT NOT NULL,
  at_ms INTEGER NOT NULL
);
CREATE INDEX send_log_by_time ON send_log (name, at_ms);
