-- Evidence of a publication (README "Objections and evidence"): a customer no contact of which could be reached is
-- listed as not notified and alerted to the vendor (VENDOR_ALERT_EMAIL) once; this records when, so the next look at
-- the evidence does not alert again. NULL = not alerted (yet).
ALTER TABLE publication_customers ADD COLUMN not_notified_alerted_at TEXT;
