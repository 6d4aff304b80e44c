-- A contact's registration email ("you are the notice contact of <customer>", README "Customers and evidence") goes
-- through the notice queue, not the import request: a 10,000-customer import must not make 20,000 provider calls in
-- one request, and must stay inside the shared RESEND_MAX_RPS budget. The registration token's row is the ledger of
-- its email: `registration_sent_at` is set once the provider accepted it, so a message the queue delivers twice sends
-- nothing the second time (worker/customers/registrations.ts).
ALTER TABLE contact_tokens ADD COLUMN registration_sent_at TEXT;

-- Registrations made before this migration were emailed from the import request itself.
UPDATE contact_tokens SET registration_sent_at = created_at WHERE publication_id IS NULL;
