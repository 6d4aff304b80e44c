/**
 * The customer tables (migrations/0005_customers.sql): `customers`, `customer_contacts` and `contact_tokens`.
 * Prepared statements only; a write that touches several rows is one `db.batch` (a D1 batch is one transaction, so an
 * import is all or nothing). Ending a contract sets `ended_at`; no row a notice or an objection refers to is deleted.
 */
import type { Locale } from "../../domain/schema/common.ts";

export type ContactStatus = "active" | "unsubscribed" | "suppressed" | "removed";

export interface CustomerRecord {
  externalId: string;
  name: string;
  region: string;
  contractDate: string;
  /** The cohort staff named; null = derived from the contract date. */
  cohort: string | null;
  locale: Locale;
  createdAt: string;
  updatedAt: string;
  endedAt: string | null;
}

export interface ContactRecord {
  /** The recipient id of the contact's deliveries. */
  id: string;
  customerId: string;
  email: string;
  name: string | null;
  locale: Locale | null;
  status: ContactStatus;
  createdAt: string;
  updatedAt: string;
}

interface CustomerRow {
  external_id: string;
  name: string;
  region: string;
  contract_date: string;
  cohort: string | null;
  locale: Locale;
  created_at: string;
  updated_at: string;
  ended_at: string | null;
}

interface ContactRow {
  id: string;
  customer_id: string;
  email: string;
  name: string | null;
  locale: Locale | null;
  status: ContactStatus;
  created_at: string;
  updated_at: string;
}

const CUSTOMER_COLUMNS =
  "c.external_id, c.name, c.region, c.contract_date, c.cohort, c.locale, c.created_at, c.updated_at, c.ended_at";
const CONTACT_COLUMNS = "k.id, k.customer_id, k.email, k.name, k.locale, k.status, k.created_at, k.updated_at";

function toCustomer(row: CustomerRow): CustomerRecord {
  return {
    externalId: row.external_id,
    name: row.name,
    region: row.region,
    contractDate: row.contract_date,
    cohort: row.cohort,
    locale: row.locale,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    endedAt: row.ended_at,
  };
}

function toContact(row: ContactRow): ContactRecord {
  return {
    id: row.id,
    customerId: row.customer_id,
    email: row.email,
    name: row.name,
    locale: row.locale,
    status: row.status,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export interface ContactToken {
  contact: ContactRecord;
  customer: CustomerRecord;
  /** Set for the token a notice email carries. */
  publicationId: number | null;
}

/** A contact token by its hash, with its contact and customer; a contact removed from its customer has no token. */
export async function findContactToken(db: D1Database, tokenHash: string): Promise<ContactToken | null> {
  const row = await db
    .prepare(
      `SELECT t.publication_id, ${CONTACT_COLUMNS}, c.external_id, c.name AS c_name, c.region, c.contract_date, ` +
        "c.cohort, c.locale AS c_locale, c.created_at AS c_created_at, c.updated_at AS c_updated_at, c.ended_at " +
        "FROM contact_tokens t JOIN customer_contacts k ON k.id = t.contact_id " +
        "JOIN customers c ON c.external_id = k.customer_id WHERE t.token_hash = ?1 AND k.status <> 'removed'",
    )
    .bind(tokenHash)
    .first<
      ContactRow &
        Pick<CustomerRow, "external_id" | "region" | "contract_date" | "cohort" | "ended_at"> & {
          publication_id: number | null;
          c_name: string;
          c_locale: Locale;
          c_created_at: string;
          c_updated_at: string;
        }
    >();
  if (!row) return null;
  return {
    publicationId: row.publication_id,
    contact: toContact(row),
    customer: toCustomer({
      ...row,
      name: row.c_name,
      locale: row.c_locale,
      created_at: row.c_created_at,
      updated_at: row.c_updated_at,
    }),
  };
}

/** A customer with its contacts (those not removed, unless asked for). */
export interface CustomerWithContacts {
  customer: CustomerRecord;
  contacts: ContactRecord[];
}

/**
 * Customers with their contacts: every one, or those of `externalIds`, optionally of one region; ended contracts only
 * when `includeEnded`. Contacts removed from their customer only when `includeRemoved` (the admin view shows them).
 */
export async function loadCustomers(
  db: D1Database,
  options: { externalIds?: readonly string[]; region?: string; includeEnded?: boolean; includeRemoved?: boolean } = {},
): Promise<Map<string, CustomerWithContacts>> {
  const where: string[] = [];
  const binds: unknown[] = [];
  if (options.externalIds) {
    binds.push(JSON.stringify(options.externalIds));
    where.push(`c.external_id IN (SELECT value FROM json_each(?${binds.length}))`);
  }
  if (options.region !== undefined) {
    binds.push(options.region);
    where.push(`c.region = ?${binds.length}`);
  }
  if (!options.includeEnded) where.push("c.ended_at IS NULL");
  const filter = where.length > 0 ? ` WHERE ${where.join(" AND ")}` : "";
  const removed = options.includeRemoved ? "" : " AND k.status <> 'removed'";
  const [customers, contacts] = await db.batch([
    db.prepare(`SELECT ${CUSTOMER_COLUMNS} FROM customers c${filter} ORDER BY c.external_id`).bind(...binds),
    db
      .prepare(
        `SELECT ${CONTACT_COLUMNS} FROM customer_contacts k JOIN customers c ON c.external_id = k.customer_id` +
          `${filter || " WHERE 1"}${removed} ORDER BY k.customer_id, k.email`,
      )
      .bind(...binds),
  ]);
  const out = new Map<string, CustomerWithContacts>();
  for (const row of (customers?.results ?? []) as CustomerRow[]) {
    out.set(row.external_id, { customer: toCustomer(row), contacts: [] });
  }
  for (const row of (contacts?.results ?? []) as ContactRow[]) out.get(row.customer_id)?.contacts.push(toContact(row));
  return out;
}

/** One customer's row as written by an upsert or import. */
export interface CustomerFields {
  externalId: string;
  name: string;
  region: string;
  contractDate: string;
  cohort: string | null;
  locale: Locale;
}

/** One contact as written: an address new to the customer gets `id`; a known one keeps its id and status. */
export interface ContactFields {
  id: string;
  customerId: string;
  email: string;
  name: string | null;
  locale: Locale | null;
}

/** Every write of an upsert or import; applied by `writeCustomers` as one batch. */
export interface CustomerWrite {
  customers: CustomerFields[];
  contacts: ContactFields[];
  /** Contact ids no longer listed for their customer: status `removed` (their deliveries stay). */
  removedContacts: string[];
  /** Customers whose contract ends (`full-sync` import of a list without them). */
  ended: string[];
  /** A token for each newly registered contact, by (customer, address): written after the contact. */
  tokens: { customerId: string; email: string; tokenHash: string }[];
}

// Lists travel as one JSON parameter read with json_each, so no statement meets D1's limit of 100 bound parameters.
// A parameter is a string, and D1 caps a string at 2,000,000 bytes: lists are cut into parts of at most 1,000,000
// bytes of JSON, so 10,000 customers with 2 contacts each are some ten statements, well under D1's 50 queries per
// invocation (Workers Free; 1,000 on Paid), and all of them one batch: one transaction, all or nothing.
const MAX_JSON_PARAMETER_BYTES = 1_000_000;

function jsonParts(rows: readonly unknown[]): string[] {
  const parts: string[] = [];
  const encoder = new TextEncoder();
  let current: string[] = [];
  let size = 2;
  for (const row of rows) {
    const text = JSON.stringify(row);
    const bytes = encoder.encode(text).byteLength + 1;
    if (current.length > 0 && size + bytes > MAX_JSON_PARAMETER_BYTES) {
      parts.push(`[${current.join(",")}]`);
      current = [];
      size = 2;
    }
    current.push(text);
    size += bytes;
  }
  if (current.length > 0) parts.push(`[${current.join(",")}]`);
  return parts;
}

const j = (field: string) => `json_extract(value, '$.${field}')`;

const END_CONTRACTS =
  "UPDATE customers SET ended_at = ?2, updated_at = ?2 " +
  "WHERE external_id IN (SELECT value FROM json_each(?1)) AND ended_at IS NULL";

/** Applies an upsert or import in one D1 batch (one transaction): every row lands, or none. */
export async function writeCustomers(db: D1Database, write: CustomerWrite, now: string): Promise<void> {
  const statements: D1PreparedStatement[] = [];
  // Each statement reads its list as ?1 (a part of at most MAX_JSON_PARAMETER_BYTES) and the time as ?2.
  const each = (rows: readonly unknown[], sql: string) => {
    for (const part of jsonParts(rows)) statements.push(db.prepare(sql).bind(part, now));
  };
  each(
    write.customers,
    "INSERT INTO customers (external_id, name, region, contract_date, cohort, locale, created_at, updated_at) " +
      `SELECT ${j("externalId")}, ${j("name")}, ${j("region")}, ${j("contractDate")}, ${j("cohort")}, ${j("locale")}, ?2, ?2 ` +
      "FROM json_each(?1) WHERE true ON CONFLICT (external_id) DO UPDATE SET name = excluded.name, " +
      "region = excluded.region, contract_date = excluded.contract_date, cohort = excluded.cohort, " +
      "locale = excluded.locale, updated_at = excluded.updated_at, ended_at = NULL",
  );
  // A known address keeps its id and its status (an unsubscribed contact stays unsubscribed); one that was removed
  // and is listed again is active again.
  each(
    write.contacts,
    "INSERT INTO customer_contacts (id, customer_id, email, name, locale, status, created_at, updated_at) " +
      `SELECT ${j("id")}, ${j("customerId")}, ${j("email")}, ${j("name")}, ${j("locale")}, 'active', ?2, ?2 ` +
      "FROM json_each(?1) WHERE true ON CONFLICT (customer_id, email) DO UPDATE SET name = excluded.name, " +
      "locale = excluded.locale, updated_at = excluded.updated_at, " +
      "status = CASE status WHEN 'removed' THEN 'active' ELSE status END",
  );
  each(
    write.removedContacts,
    "UPDATE customer_contacts SET status = 'removed', updated_at = ?2 " +
      "WHERE id IN (SELECT value FROM json_each(?1)) AND status <> 'removed'",
  );
  each(write.ended, END_CONTRACTS);
  each(
    write.tokens,
    "INSERT INTO contact_tokens (token_hash, contact_id, created_at) " +
      "SELECT json_extract(t.value, '$.tokenHash'), k.id, ?2 FROM json_each(?1) t JOIN customer_contacts k " +
      "ON k.customer_id = json_extract(t.value, '$.customerId') AND k.email = json_extract(t.value, '$.email')",
  );
  if (statements.length > 0) await db.batch(statements);
}

/** Ends a customer's contract; false when it had already ended (or does not exist). Nothing is deleted. */
export async function endCustomer(db: D1Database, externalId: string, now: string): Promise<boolean> {
  const result = await db
    .prepare(END_CONTRACTS)
    .bind(JSON.stringify([externalId]), now)
    .run();
  return result.meta.changes === 1;
}

/**
 * Unsubscribes a contact; answers whether it changed and how many active contacts its customer has left, read in the
 * same batch (one transaction), so of two contacts unsubscribing at once exactly one sees none left.
 */
export async function unsubscribeContactRow(
  db: D1Database,
  contact: Pick<ContactRecord, "id" | "customerId">,
  now: string,
): Promise<{ changed: boolean; activeLeft: number }> {
  const [update, count] = await db.batch([
    db
      .prepare(
        "UPDATE customer_contacts SET status = 'unsubscribed', updated_at = ?2 " +
          "WHERE id = ?1 AND status NOT IN ('unsubscribed', 'removed')",
      )
      .bind(contact.id, now),
    db
      .prepare("SELECT COUNT(*) AS n FROM customer_contacts WHERE customer_id = ?1 AND status = 'active'")
      .bind(contact.customerId),
  ]);
  return {
    changed: (update?.meta.changes ?? 0) === 1,
    activeLeft: Number((count?.results[0] as { n: number } | undefined)?.n ?? 0),
  };
}

/** One notice a customer was sent (or is being sent): a delivery to one of its contacts, with its publication. */
export interface CustomerNotice {
  publicationId: number;
  publishedAt: string;
  fingerprint: string;
  contactId: string;
  email: string | null;
  status: string;
  audience: unknown;
  sentAt: string | null;
  deliveredAt: string | null;
  bouncedAt: string | null;
  messageId: string | null;
  deadline: string | null;
  honouredDeadline: string | null;
}

export interface CustomerObjection {
  id: string;
  publicationId: number;
  email: string;
  changes: string[];
  state: string;
  outcome: string | null;
  late: boolean;
  deadline: string;
  createdAt: string;
}

/** A customer's notice history: every delivery to its contacts and every objection it made, oldest first. */
export async function customerHistory(
  db: D1Database,
  externalId: string,
): Promise<{ notices: CustomerNotice[]; objections: CustomerObjection[] }> {
  const [deliveries, objections] = await db.batch([
    db
      .prepare(
        "SELECT d.publication_id, p.published_at, p.fingerprint, d.subscriber_id, d.email, d.status, d.audience, " +
          "d.sent_at, d.delivered_at, d.bounced_at, d.message_id, d.deadline, d.honoured_deadline " +
          "FROM deliveries d JOIN publications p ON p.sequence = d.publication_id " +
          "WHERE d.customer_id = ?1 ORDER BY d.publication_id, d.email",
      )
      .bind(externalId),
    db
      .prepare(
        "SELECT id, publication_id, email, changes, state, outcome, late, deadline, created_at FROM objections " +
          "WHERE customer_id = ?1 ORDER BY created_at, id",
      )
      .bind(externalId),
  ]);
  type DeliveryRow = {
    publication_id: number;
    published_at: string;
    fingerprint: string;
    subscriber_id: string;
    email: string | null;
    status: string;
    audience: string | null;
    sent_at: string | null;
    delivered_at: string | null;
    bounced_at: string | null;
    message_id: string | null;
    deadline: string | null;
    honoured_deadline: string | null;
  };
  type ObjectionRow = {
    id: string;
    publication_id: number;
    email: string;
    changes: string | null;
    state: string;
    outcome: string | null;
    late: number;
    deadline: string;
    created_at: string;
  };
  return {
    notices: ((deliveries?.results ?? []) as DeliveryRow[]).map((r) => ({
      publicationId: r.publication_id,
      publishedAt: r.published_at,
      fingerprint: r.fingerprint,
      contactId: r.subscriber_id,
      email: r.email,
      status: r.status,
      audience: r.audience ? (JSON.parse(r.audience) as unknown) : null,
      sentAt: r.sent_at,
      deliveredAt: r.delivered_at,
      bouncedAt: r.bounced_at,
      messageId: r.message_id,
      deadline: r.deadline,
      honouredDeadline: r.honoured_deadline,
    })),
    objections: ((objections?.results ?? []) as ObjectionRow[]).map((r) => ({
      id: r.id,
      publicationId: r.publication_id,
      email: r.email,
      changes: r.changes ? (JSON.parse(r.changes) as string[]) : [],
      state: r.state,
      outcome: r.outcome,
      late: r.late === 1,
      deadline: r.deadline,
      createdAt: r.created_at,
    })),
  };
}

/** A registration email to send: its token's row, the contact and customer it names (worker/customers/registrations.ts). */
export interface RegistrationRow {
  tokenHash: string;
  sentAt: string | null;
  email: string;
  status: ContactStatus;
  locale: Locale;
  customerName: string;
  customerEnded: boolean;
}

/** The registration tokens among `tokenHashes` that are stored, with their contact; one statement (≤ 100 hashes). */
export async function registrationsByHash(db: D1Database, tokenHashes: readonly string[]): Promise<RegistrationRow[]> {
  const { results } = await db
    .prepare(
      "SELECT t.token_hash, t.registration_sent_at, k.email, k.status, COALESCE(k.locale, c.locale) AS locale, " +
        "c.name, c.ended_at FROM contact_tokens t JOIN customer_contacts k ON k.id = t.contact_id " +
        "JOIN customers c ON c.external_id = k.customer_id " +
        "WHERE t.token_hash IN (SELECT value FROM json_each(?1)) AND t.publication_id IS NULL",
    )
    .bind(JSON.stringify(tokenHashes))
    .all<{
      token_hash: string;
      registration_sent_at: string | null;
      email: string;
      status: ContactStatus;
      locale: Locale;
      name: string;
      ended_at: string | null;
    }>();
  return results.map((r) => ({
    tokenHash: r.token_hash,
    sentAt: r.registration_sent_at,
    email: r.email,
    status: r.status,
    locale: r.locale,
    customerName: r.name,
    customerEnded: r.ended_at !== null,
  }));
}

/** Records that the provider accepted these registration emails. */
export async function markRegistrationsSent(
  db: D1Database,
  tokenHashes: readonly string[],
  now: string,
): Promise<void> {
  await db
    .prepare(
      "UPDATE contact_tokens SET registration_sent_at = ?2 WHERE token_hash IN (SELECT value FROM json_each(?1)) " +
        "AND registration_sent_at IS NULL",
    )
    .bind(JSON.stringify(tokenHashes), now)
    .run();
}
