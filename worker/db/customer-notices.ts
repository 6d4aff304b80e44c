/**
 * What the notice fan-out reads of customers and their contacts, and writes about them (migrations/0005_customers.sql):
 * the customers under contract with their contacts (the publish plan's input), the frozen `publication_customers`
 * rows and the contacts' planned deliveries (written with the publication, db/publications.ts), the live state of a
 * contact at send time, and what the provider's webhooks tell us about an address. The customers admin
 * (db/customers.ts) owns the writes of the customer records themselves and the contacts' tokens.
 * Lists travel as one JSON parameter read with json_each: D1 binds at most 100 parameters per query.
 */
import type { Locale } from "../../domain/schema/common.ts";
import type { Customer } from "../../domain/schema/customer.ts";
import type { LiveSubscriber } from "../notices/engine/fanout.ts";

/** A customer under contract as the publish plan reads it, with the contact ids behind its addresses. */
export interface PlannedCustomer {
  customer: Customer;
  /** Contact id by address: the recipient id of that contact's delivery. */
  contactIds: Map<string, string>;
}

/**
 * Customers under contract (ended_at IS NULL) with the contacts a notice may go to: active ones, and suppressed ones
 * (kept so the plan reports them as suppressed). Unsubscribed and removed contacts are no longer notice contacts.
 */
export async function customersUnderContract(db: D1Database): Promise<PlannedCustomer[]> {
  const [customers, contacts] = await db.batch<Record<string, unknown>>([
    db.prepare(
      "SELECT external_id, name, region, contract_date, cohort, locale FROM customers WHERE ended_at IS NULL " +
        "ORDER BY external_id",
    ),
    db.prepare(
      "SELECT cc.id, cc.customer_id, cc.email, cc.name, cc.locale FROM customer_contacts cc " +
        "JOIN customers c ON c.external_id = cc.customer_id " +
        "WHERE c.ended_at IS NULL AND cc.status IN ('active', 'suppressed') ORDER BY cc.customer_id, cc.email",
    ),
  ]);
  const byCustomer = new Map<string, PlannedCustomer>();
  for (const raw of customers?.results ?? []) {
    const r = raw as {
      external_id: string;
      name: string;
      region: string;
      contract_date: string;
      cohort: string | null;
      locale: Locale;
    };
    byCustomer.set(r.external_id, {
      customer: {
        externalId: r.external_id,
        name: r.name,
        region: r.region,
        contractDate: r.contract_date,
        ...(r.cohort !== null ? { cohort: r.cohort } : {}),
        locale: r.locale,
        contacts: [],
      },
      contactIds: new Map(),
    });
  }
  for (const raw of contacts?.results ?? []) {
    const r = raw as { id: string; customer_id: string; email: string; name: string | null; locale: Locale | null };
    const planned = byCustomer.get(r.customer_id);
    if (!planned) continue;
    planned.customer.contacts.push({
      email: r.email,
      ...(r.name !== null ? { name: r.name } : {}),
      ...(r.locale !== null ? { locale: r.locale } : {}),
    });
    planned.contactIds.set(r.email, r.id);
  }
  return [...byCustomer.values()];
}

/**
 * Addresses the plan must leave out: contacts suppressed after a bounce or complaint, and addresses suppressed as a
 * self-subscriber (the provider refuses them either way).
 */
export async function suppressedContactAddresses(db: D1Database): Promise<Set<string>> {
  const { results } = await db
    .prepare(
      "SELECT email FROM customer_contacts WHERE status = 'suppressed' UNION " +
        "SELECT s.email FROM subscribers s WHERE s.status = 'suppressed' " +
        "AND s.email IN (SELECT email FROM customer_contacts)",
    )
    .all<{ email: string }>();
  return new Set(results.map((r) => r.email));
}

/** One row of `publication_customers`: what the publication means for one customer, frozen with the plan. */
export interface PublicationCustomer {
  customerId: string;
  region: string;
  cohort: string | undefined;
  concerned: boolean;
  /** Why it gets nothing (when not concerned). */
  reason: string | undefined;
}

/** A planned delivery to a contact: written pending with the plan, so its audience is frozen with it. */
export interface PlannedContactDelivery {
  contactId: string;
  customerId: string;
  chunk: number;
  audience: { region: string; cohort: string | undefined };
}

/** Rows per INSERT: a thousand rows of ~150 bytes is one JSON parameter of ~150 KB. */
const ROWS_PER_STATEMENT = 1000;

function slices<T>(rows: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) out.push(rows.slice(i, i + ROWS_PER_STATEMENT));
  return out;
}

/** The statements that record a publication's customers and its contacts' pending deliveries (one transaction). */
export function customerPlanStatements(
  db: D1Database,
  publicationId: number,
  customers: readonly PublicationCustomer[],
  deliveries: readonly PlannedContactDelivery[],
  now: string,
): D1PreparedStatement[] {
  return [
    ...slices(customers).map((slice) =>
      db
        .prepare(
          "INSERT INTO publication_customers (publication_id, customer_id, region, cohort, concerned, reason) " +
            "SELECT ?1, json_extract(value, '$.c'), json_extract(value, '$.r'), json_extract(value, '$.k'), " +
            "json_extract(value, '$.y'), json_extract(value, '$.why') FROM json_each(?2)",
        )
        .bind(
          publicationId,
          JSON.stringify(
            slice.map((c) => ({
              c: c.customerId,
              r: c.region,
              k: c.cohort ?? null,
              y: c.concerned ? 1 : 0,
              why: c.reason ?? null,
            })),
          ),
        ),
    ),
    ...slices(deliveries).map((slice) =>
      db
        .prepare(
          "INSERT INTO deliveries (publication_id, subscriber_id, chunk, status, customer_id, audience, updated_at) " +
            "SELECT ?1, json_extract(value, '$.id'), json_extract(value, '$.chunk'), 'pending', " +
            "json_extract(value, '$.customer'), json(json_extract(value, '$.audience')), ?3 FROM json_each(?2)",
        )
        .bind(
          publicationId,
          JSON.stringify(
            slice.map((d) => ({
              id: d.contactId,
              chunk: d.chunk,
              customer: d.customerId,
              audience: JSON.stringify({ region: d.audience.region, cohort: d.audience.cohort ?? null }),
            })),
          ),
          now,
        ),
    ),
  ];
}

/**
 * Contacts as they stand now, shaped like subscribers for the send loop: an active contact of a customer under
 * contract is "confirmed"; otherwise its status says why it gets nothing (unsubscribed, suppressed, removed, or
 * "ended" when the contract ended). Its language is its own, else its customer's.
 */
export async function liveContacts(db: D1Database, ids: readonly string[]): Promise<Map<string, LiveSubscriber>> {
  const { results } = await db
    .prepare(
      "SELECT cc.id, cc.email, cc.customer_id, COALESCE(cc.locale, c.locale) AS locale, c.region, " +
        "CASE WHEN c.ended_at IS NOT NULL THEN 'ended' WHEN cc.status = 'active' THEN 'confirmed' ELSE cc.status END " +
        "AS status FROM customer_contacts cc JOIN customers c ON c.external_id = cc.customer_id " +
        "WHERE cc.id IN (SELECT value FROM json_each(?1))",
    )
    .bind(JSON.stringify(ids))
    .all<{
      id: string;
      email: string;
      customer_id: string;
      locale: Locale;
      region: string;
      status: LiveSubscriber["status"];
    }>();
  return new Map(
    results.map((r) => [
      r.id,
      {
        id: r.id,
        email: r.email,
        status: r.status,
        locale: r.locale,
        topics: ["subprocessors"],
        regions: [r.region],
        customerId: r.customer_id,
      },
    ]),
  );
}

// ---------------------------------------------------------------------------------------------
// Provider webhooks

/** A bounce or complaint: every contact with this address gets no further email. */
export async function suppressContactAddress(db: D1Database, email: string, now: string): Promise<number> {
  const r = await db
    .prepare(
      "UPDATE customer_contacts SET status = 'suppressed', updated_at = ?2 WHERE email = ?1 AND status = 'active'",
    )
    .bind(email, now)
    .run();
  return r.meta.changes;
}
