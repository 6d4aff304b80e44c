-- Recovery of a fan-out that stopped (issue 10): the reconciler (worker/notices/recovery.ts) queues again a chunk whose
-- message was lost after it was handed to the queue, records what the dead letter queue receives, and flags a
-- publication whose fan-out does not complete.

-- How often the reconciler has queued a chunk again; past RECOVERY_MAX_REQUEUES its open rows are given up.
ALTER TABLE fanout_chunks ADD COLUMN requeues INTEGER NOT NULL DEFAULT 0;

-- Set by the reconciler when every planned delivery has ended (sent, suppressed, dead or stuck).
ALTER TABLE publications ADD COLUMN fanout_completed_at TEXT;
-- Set once when the fan-out was still incomplete past FANOUT_STALL_MS: the vendor is alerted exactly once.
ALTER TABLE publications ADD COLUMN fanout_stalled_at TEXT;

-- Dead letters now also come from the dead letter queue (notices-dlq) and from the reconciler giving up. A message the
-- dead letter queue delivers twice is recorded once: its queue message id is unique.
ALTER TABLE dead_letters ADD COLUMN source TEXT NOT NULL DEFAULT 'consumer'
  CHECK (source IN ('consumer', 'dead-letter-queue', 'reconciler'));
ALTER TABLE dead_letters ADD COLUMN queue_message_id TEXT;
CREATE UNIQUE INDEX dead_letters_by_message ON dead_letters (queue_message_id) WHERE queue_message_id IS NOT NULL;

-- The reconciler reads the deliveries of unfinished publications chunk by chunk.
CREATE INDEX deliveries_by_chunk ON deliveries (publication_id, chunk);
