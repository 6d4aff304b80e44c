/**
 * What the evidence of one publication is derived from (README "Objections and evidence"): the plan frozen at publish
 * time (`publication_customers`), the customers and their contacts, the deliveries to contacts (`customer_id` set)
 * and the customers' objections. Read only, except the record that a not-notified customer was alerted to the vendor
 * (migrations/0008_evidence_alerts.sql).
 */
import type { ObjectionOutcome, ObjectionState } from "../../domain/objection.ts";
import type { Locale } from "../../domain/schema/common.ts";

export interface PlannedCustomer {
  customerId: string;
  region: string;
  cohort: string | null;
  concerned: boolean;
  reason: string | null;
  notNotifiedAlertedAt: string | null;
}

export interface EvidenceCustomer {
  externalId: string;
  name: string;
  region: string;
  contractDate: string;
  cohort: string | null;
  locale: Locale;
  endedAt: string | null;
}

export interface EvidenceContact {
  customerId: string;
  email: string;
  name: string | null;
  locale: Locale | null;
  status: "active" | "unsubscribed" | "suppressed" | "removed";
}

export interface EvidenceDelivery {
  customerId: string;
  email: string | null;
  locale: Locale | null;
  status: string;
  sentAt: string | null;
  deliveredAt: string | null;
  bouncedAt: string | null;
  messageId: string | null;
  deadline: string | null;
}

export interface EvidenceObjection {
  id: string;
  customerId: string;
  createdAt: string;
  state: ObjectionState;
  outcome: ObjectionOutcome | null;
  changes: string[];
  /** Its events (objection_events), oldest first. */
  steps: { state: ObjectionState; outcome: ObjectionOutcome | null; at: string }[];
}

export interface EvidenceRows {
  planned: PlannedCustomer[];
  customers: EvidenceCustomer[];
  contacts: EvidenceContact[];
  deliveries: EvidenceDelivery[];
  objections: EvidenceObjection[];
}

/** Every row the evidence of `publicationId` rests on, read in one batch (one consistent view of the ledger). */
export async function evidenceRows(db: D1Database, publicationId: number): Promise<EvidenceRows> {
  const [planned, customers, contacts, deliveries, objections, events] = await db.batch([
    db
      .prepare(
        "SELECT customer_id, region, cohort, concerned, reason, not_notified_alerted_at FROM publication_customers " +
          "WHERE publication_id = ?1 ORDER BY customer_id",
      )
      .bind(publicationId),
    db
      .prepare(
        "SELECT c.external_id, c.name, c.region, c.contract_date, c.cohort, c.locale, c.ended_at FROM customers c " +
          "JOIN publication_customers p ON p.customer_id = c.external_id WHERE p.publication_id = ?1",
      )
      .bind(publicationId),
    db
      .prepare(
        "SELECT k.customer_id, k.email, k.name, k.locale, k.status FROM customer_contacts k " +
          "JOIN publication_customers p ON p.customer_id = k.customer_id WHERE p.publication_id = ?1",
      )
      .bind(publicationId),
    db
      .prepare(
        "SELECT customer_id, email, locale, status, sent_at, delivered_at, bounced_at, message_id, deadline " +
          "FROM deliveries WHERE publication_id = ?1 AND customer_id IS NOT NULL",
      )
      .bind(publicationId),
    db
      .prepare(
        "SELECT id, customer_id, created_at, state, outcome, changes FROM objections " +
          "WHERE publication_id = ?1 AND customer_id IS NOT NULL",
      )
      .bind(publicationId),
    db
      .prepare(
        "SELECT e.objection_id, e.state, e.outcome, e.created_at FROM objection_events e " +
          "JOIN objections o ON o.id = e.objection_id WHERE o.publication_id = ?1 AND o.customer_id IS NOT NULL " +
          "ORDER BY e.objection_id, e.id",
      )
      .bind(publicationId),
  ]);
  type Row = Record<string, unknown>;
  const rows = (r: D1Result | undefined) => (r?.results ?? []) as Row[];
  const text = (v: unknown) => (v === null || v === undefined ? null : String(v));
  const stepsOf = new Map<string, EvidenceObjection["steps"]>();
  for (const r of rows(events)) {
    const id = String(r.objection_id);
    const step = {
      state: r.state as ObjectionState,
      outcome: (r.outcome ?? null) as ObjectionOutcome | null,
      at: String(r.created_at),
    };
    stepsOf.set(id, [...(stepsOf.get(id) ?? []), step]);
  }
  return {
    planned: rows(planned).map((r) => ({
      customerId: String(r.customer_id),
      region: String(r.region),
      cohort: text(r.cohort),
      concerned: r.concerned === 1,
      reason: text(r.reason),
      notNotifiedAlertedAt: text(r.not_notified_alerted_at),
    })),
    customers: rows(customers).map((r) => ({
      externalId: String(r.external_id),
      name: String(r.name),
      region: String(r.region),
      contractDate: String(r.contract_date),
      cohort: text(r.cohort),
      locale: r.locale as Locale,
      endedAt: text(r.ended_at),
    })),
    contacts: rows(contacts).map((r) => ({
      customerId: String(r.customer_id),
      email: String(r.email),
      name: text(r.name),
      locale: text(r.locale) as Locale | null,
      status: r.status as EvidenceContact["status"],
    })),
    deliveries: rows(deliveries).map((r) => ({
      customerId: String(r.customer_id),
      email: text(r.email),
      locale: text(r.locale) as Locale | null,
      status: String(r.status),
      sentAt: text(r.sent_at),
      deliveredAt: text(r.delivered_at),
      bouncedAt: text(r.bounced_at),
      messageId: text(r.message_id),
      deadline: text(r.deadline),
    })),
    objections: rows(objections).map((r) => ({
      id: String(r.id),
      customerId: String(r.customer_id),
      createdAt: String(r.created_at),
      state: r.state as ObjectionState,
      outcome: (r.outcome ?? null) as ObjectionOutcome | null,
      changes: r.changes ? (JSON.parse(String(r.changes)) as string[]) : [],
      steps: stepsOf.get(String(r.id)) ?? [],
    })),
  };
}

/**
 * Marks customers of a publication as alerted to the vendor for not being notified; returns those it marked, so
 * two looks at the evidence at once alert each customer once.
 */
export async function claimNotNotifiedAlerts(
  db: D1Database,
  publicationId: number,
  customerIds: readonly string[],
  now: string,
): Promise<string[]> {
  const { results } = await db
    .prepare(
      "UPDATE publication_customers SET not_notified_alerted_at = ?3 WHERE publication_id = ?1 " +
        "AND customer_id IN (SELECT value FROM json_each(?2)) AND not_notified_alerted_at IS NULL RETURNING customer_id",
    )
    .bind(publicationId, JSON.stringify(customerIds), now)
    .all<{ customer_id: string }>();
  return results.map((r) => r.customer_id).sort();
}

/** Undoes a claim whose alert could not be sent, so the next look alerts again. */
export async function releaseNotNotifiedAlerts(
  db: D1Database,
  publicationId: number,
  customerIds: readonly string[],
  claimedAt: string,
): Promise<void> {
  await db
    .prepare(
      "UPDATE publication_customers SET not_notified_alerted_at = NULL WHERE publication_id = ?1 " +
        "AND customer_id IN (SELECT value FROM json_each(?2)) AND not_notified_alerted_at = ?3",
    )
    .bind(publicationId, JSON.stringify(customerIds), claimedAt)
    .run();
}

/**
 * Publications whose fan-out is complete, published at or after `since`, that have a concerned customer not yet
 * alerted none of whose contacts has a proven, unbounced delivery: the only ones where the evidence can find a
 * customer to alert about (a customer with such a delivery is notified). Oldest first.
 */
export async function publicationsToAlert(db: D1Database, since: string): Promise<number[]> {
  const { results } = await db
    .prepare(
      "SELECT p.sequence FROM publications p WHERE p.kind = 'notice' AND p.fanout_completed_at IS NOT NULL " +
        "AND p.published_at >= ?1 AND EXISTS (SELECT 1 FROM publication_customers pc WHERE pc.publication_id = " +
        "p.sequence AND pc.concerned = 1 AND pc.not_notified_alerted_at IS NULL AND NOT EXISTS (SELECT 1 FROM " +
        "deliveries d WHERE d.customer_id = pc.customer_id AND d.publication_id = pc.publication_id " +
        "AND d.delivered_at IS NOT NULL AND d.bounced_at IS NULL)) ORDER BY p.sequence",
    )
    .bind(since)
    .all<{ sequence: number }>();
  return results.map((r) => r.sequence);
}
