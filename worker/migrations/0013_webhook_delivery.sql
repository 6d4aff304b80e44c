-- Outbound webhook delivery (README "Webhooks"): what the ledger of migration 0009 needs to retry for 24 hours and to
-- plan each publication exactly once.

-- Retries go on for 24 h after the first attempt; the clock starts when the first attempt takes its lease.
ALTER TABLE webhook_deliveries ADD COLUMN first_attempt_at TEXT;

-- One row per publication whose webhook deliveries were planned, written in the same transaction as the deliveries:
-- a publish run that stopped between recording the publication and planning its webhooks is completed by the
-- reconciler (worker/webhooks/recovery.ts), and a second planner inserts nothing.
CREATE TABLE webhook_plans (
  publication_id INTEGER PRIMARY KEY REFERENCES publications (sequence),
  planned_at TEXT NOT NULL,
  deliveries INTEGER NOT NULL                -- endpoints concerned when planned
);
