-- Customers under contract and the evidence of what each was told (README "Customers and evidence").
-- DPA 5.2: written notice to each customer 30 days ahead; 5.3: silence for 10 working days from receipt counts as
-- consent; 5.4: an objection leads to an alternative or termination; 5.5: the notice carries the customer's Annex C.
-- Evidence rows are never deleted with a customer: ending a contract sets ended_at.

CREATE TABLE customers (
  external_id TEXT PRIMARY KEY,              -- the vendor's contract or CRM id
  name TEXT NOT NULL,
  region TEXT NOT NULL,                      -- a region id from content/vendor.yaml
  contract_date TEXT NOT NULL,               -- YYYY-MM-DD; the cohort follows from it (vendor.yaml cohort rules)
  cohort TEXT,                               -- explicit override (e.g. legacy-switch); NULL = derived
  locale TEXT NOT NULL CHECK (locale IN ('da', 'en')),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  ended_at TEXT                              -- DELETE ends the contract; NULL while under contract
);
CREATE INDEX customers_by_region ON customers (region, cohort);

CREATE TABLE customer_contacts (
  id TEXT PRIMARY KEY,                       -- random UUID: the recipient id of the contact's deliveries
  customer_id TEXT NOT NULL REFERENCES customers (external_id),
  email TEXT NOT NULL,                       -- normalised like subscribers.email
  name TEXT,
  locale TEXT CHECK (locale IS NULL OR locale IN ('da', 'en')),
  status TEXT NOT NULL CHECK (status IN ('active', 'unsubscribed', 'suppressed', 'removed')),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  UNIQUE (customer_id, email)
);
CREATE INDEX customer_contacts_by_email ON customer_contacts (email);

-- Tokens a contact acts with (name another contact, one-click unsubscribe, object to a notice): only hashes are
-- stored, like subscription_tokens. A notice token also names the publication it came with.
CREATE TABLE contact_tokens (
  token_hash TEXT PRIMARY KEY,               -- lower-case hex SHA-256 of the token
  contact_id TEXT NOT NULL REFERENCES customer_contacts (id),
  publication_id INTEGER,                    -- set for the token a notice email carries
  created_at TEXT NOT NULL
);
CREATE INDEX contact_tokens_by_contact ON contact_tokens (contact_id);

-- Frozen at publish time: which customers a publication concerns, resolved for which audience, and why not.
CREATE TABLE publication_customers (
  publication_id INTEGER NOT NULL REFERENCES publications (sequence),
  customer_id TEXT NOT NULL,
  region TEXT NOT NULL,
  cohort TEXT,
  concerned INTEGER NOT NULL CHECK (concerned IN (0, 1)),
  reason TEXT,                               -- when not concerned: why (e.g. no row of its Annex C changed)
  PRIMARY KEY (publication_id, customer_id)
);

-- A delivery to a customer's contact uses the same ledger row as a subscriber's (recipient id = contact id).
ALTER TABLE deliveries ADD COLUMN customer_id TEXT;
ALTER TABLE deliveries ADD COLUMN audience TEXT;          -- JSON {region, cohort} the Annex C was resolved for
ALTER TABLE deliveries ADD COLUMN delivered_at TEXT;      -- provider's email.delivered (receipt, DPA 5.3)
ALTER TABLE deliveries ADD COLUMN bounced_at TEXT;
ALTER TABLE deliveries ADD COLUMN honoured_deadline TEXT; -- the later of the stated one and the one from receipt
CREATE INDEX deliveries_by_message ON deliveries (message_id);
CREATE INDEX deliveries_by_customer ON deliveries (customer_id, publication_id);

-- Self-subscribers may state their contract cohort; NULL = "I don't know" (all-cohort notice).
ALTER TABLE subscribers ADD COLUMN cohort TEXT;

ALTER TABLE objections ADD COLUMN customer_id TEXT;
ALTER TABLE objections ADD COLUMN changes TEXT;           -- JSON array of the change ids objected to
ALTER TABLE objections ADD COLUMN state TEXT NOT NULL DEFAULT 'received'
  CHECK (state IN ('received', 'alternative-proposed', 'resolved'));
ALTER TABLE objections ADD COLUMN outcome TEXT
  CHECK (outcome IS NULL OR outcome IN ('withdrawn', 'alternative-accepted', 'terminated'));
ALTER TABLE objections ADD COLUMN late INTEGER NOT NULL DEFAULT 0;
ALTER TABLE objections ADD COLUMN receipt TEXT;           -- compact JWS (EdDSA) over the receipt payload
CREATE INDEX objections_by_customer ON objections (customer_id);

CREATE TABLE objection_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  objection_id TEXT NOT NULL REFERENCES objections (id),
  state TEXT NOT NULL CHECK (state IN ('received', 'alternative-proposed', 'resolved')),
  outcome TEXT,
  note TEXT NOT NULL,
  actor TEXT NOT NULL,                       -- "customer" or the staff member's name given with the admin token
  created_at TEXT NOT NULL
);
CREATE INDEX objection_events_by_objection ON objection_events (objection_id, id);
