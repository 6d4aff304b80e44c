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
