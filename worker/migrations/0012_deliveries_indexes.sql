-- Fewer index entries per notice email (issue 17, README "Benchmarks"): D1 counts every index entry a statement
-- writes as a row written, and the ledger had five indexes besides its primary key, so the insert of one delivery
-- wrote seven rows and every status change two or three. The send loop and the reconciler find deliveries by
-- (publication, subscriber), the primary key: the chunk's ids are in the queue message and in fanout_chunks.

-- Status and batch key are checked on rows found by their ids; a publication's rows are found by the primary key's
-- first column.
DROP INDEX IF EXISTS deliveries_by_status;
DROP INDEX IF EXISTS deliveries_by_key;
DROP INDEX IF EXISTS deliveries_by_chunk;

-- Only rows that have what is looked up get an entry: a provider message id (receipts and bounces, from the
-- webhooks) is set once, when the email is sent; a customer only on a contact's rows.
DROP INDEX IF EXISTS deliveries_by_message;
CREATE INDEX deliveries_by_message ON deliveries (message_id) WHERE message_id IS NOT NULL;
DROP INDEX IF EXISTS deliveries_by_customer;
CREATE INDEX deliveries_by_customer ON deliveries (customer_id, publication_id) WHERE customer_id IS NOT NULL;
