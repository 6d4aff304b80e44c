-- Fewer D1 rows per notice email (issue 17, README "Benchmarks"): D1 counts every b-tree entry a statement writes
-- or reads as a row. The ledger is rebuilt WITHOUT ROWID: its primary key (publication, subscriber) is the table, so
-- the claim of a delivery writes one row instead of the row and its key's index, and a row found by its key is read
-- once instead of in the index and then the table.

-- Every column of 0002, 0003 and 0005, in their order. There is no foreign key to publications any more: a row is
-- written only by the fan-out of a chunk of a recorded publication, or with that publication's plan, and
-- fanout_chunks (which keeps its foreign key) holds the chunk; checking publications again cost a read per email.
CREATE TABLE deliveries_0014 (
  publication_id INTEGER NOT NULL,
  subscriber_id TEXT NOT NULL,               -- no foreign key: the ledger outlives an erased subscription
  chunk INTEGER NOT NULL,
  -- The same check as 0002's IN list, spelt out: SQLite checks a longer IN list against a temporary b-tree, and D1
  -- counts that lookup as a row read on every insert and status change.
  status TEXT NOT NULL CHECK (status = 'pending' OR status = 'sending' OR status = 'sent' OR status = 'suppressed'
    OR status = 'dead' OR status = 'stuck'),
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
  customer_id TEXT,                          -- a customer's contact: the recipient id is the contact id
  audience TEXT,                             -- JSON {region, cohort} the Annex C was resolved for
  delivered_at TEXT,                         -- provider's email.delivered (receipt, DPA 5.3)
  bounced_at TEXT,
  honoured_deadline TEXT,                    -- the later of the stated one and the one from receipt
  PRIMARY KEY (publication_id, subscriber_id)
) WITHOUT ROWID;

INSERT INTO deliveries_0014 (publication_id, subscriber_id, chunk, status, email, locale, topics, regions, batch_key,
  claimed_at, deadline, attempts, lease_owner, lease_until_ms, sent_at, message_id, detail, updated_at, customer_id,
  audience, delivered_at, bounced_at, honoured_deadline)
SELECT publication_id, subscriber_id, chunk, status, email, locale, topics, regions, batch_key, claimed_at, deadline,
  attempts, lease_owner, lease_until_ms, sent_at, message_id, detail, updated_at, customer_id, audience, delivered_at,
  bounced_at, honoured_deadline
FROM deliveries;

DROP TABLE deliveries;
ALTER TABLE deliveries_0014 RENAME TO deliveries;

-- The partial indexes of 0012: an entry only once there is something to find by it.
CREATE INDEX deliveries_by_message ON deliveries (message_id) WHERE message_id IS NOT NULL;
CREATE INDEX deliveries_by_customer ON deliveries (customer_id, publication_id) WHERE customer_id IS NOT NULL;

-- The SHA-256 of the manage token a subscriber's notices carry (worker/notices/engine/tokens.ts), set when it is
-- stored in subscription_tokens (at confirmation, or by the first notice after): read with the subscriber at send
-- time, so the fan-out writes the token only for a subscriber that does not have it yet.
ALTER TABLE subscribers ADD COLUMN notice_token_hash TEXT;
