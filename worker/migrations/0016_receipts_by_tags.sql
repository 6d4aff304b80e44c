-- A notice carries the tags of its delivery (publication, recipient; domain/notice.ts deliveryTags), and Resend
-- sends them back with every event about the email, so a receipt finds its ledger row by the row's key. The index of
-- message ids is then only for rows whose emails carried no tags (sent before this migration): one row written per
-- email less (README "Benchmarks"). The dev outbox keeps the tags too, as the provider would.
ALTER TABLE deliveries ADD COLUMN tagged INTEGER NOT NULL DEFAULT 0;
DROP INDEX deliveries_by_message;
CREATE INDEX deliveries_by_message ON deliveries (message_id) WHERE message_id IS NOT NULL AND tagged = 0;
ALTER TABLE outbox ADD COLUMN tags TEXT;
