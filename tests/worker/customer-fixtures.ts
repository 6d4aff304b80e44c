/**
 * Customers, contacts, a published notice and its deliveries written straight into D1 with SQL, in the shapes of
 * migrations 0002 and 0005: the objection and evidence tests need the ledger a per-customer fan-out leaves, not the
 * code that writes it.
 */
import { env } from "cloudflare:workers";
import { sha256Hex } from "../../domain/canonical.ts";
import type { Localized } from "../../domain/schema/common.ts";
import { newToken } from "../../worker/http/security.ts";

export const CUSTOMER_TABLES = [
  "objection_events",
  "objections",
  "contact_tokens",
  "customer_contacts",
  "publication_customers",
  "customers",
  "deliveries",
  "publications",
  "outbox",
];

export async function resetCustomerTables(): Promise<void> {
  await env.DB.batch(CUSTOMER_TABLES.map((t) => env.DB.prepare(`DELETE FROM ${t}`)));
}

export interface FixtureChange {
  id: string;
  effective: string;
  summary: Localized;
}

export const ADDED: FixtureChange = {
  id: "2027-01-04-nordic-support-desk-added",
  effective: "2027-01-04",
  summary: { da: "Nordic Support Desk ApS tilføjes.", en: "Nordic Support Desk ApS is added." },
};
export const REMOVED: FixtureChange = {
  id: "2027-02-01-old-mailer-removed",
  effective: "2027-02-01",
  summary: { da: "Old Mailer Ltd fjernes.", en: "Old Mailer Ltd is removed." },
};
/** In the document's change log, but not announced by the notice: an objection may not name it. */
export const EARLIER: FixtureChange = {
  id: "2024-07-01-earlier-change",
  effective: "2024-07-01",
  summary: { da: "En tidligere ændring.", en: "An earlier change." },
};

/**
 * A baseline (1) and a notice (2) announcing `announced`, whose recorded document lists `inDocument` in its change
 * log. `fanoutCompletedAt` set means the fan-out has ended.
 */
export async function publishNotice(
  options: { announced?: FixtureChange[]; fanoutCompletedAt?: string | null } = {},
): Promise<void> {
  const announced = options.announced ?? [ADDED, REMOVED];
  const document = JSON.stringify({
    fingerprint: "f2",
    changes: [EARLIER, ...announced].map((c) => ({ ...c, kind: "added", announced: "2026-11-23" })),
  });
  await env.DB.batch([
    env.DB.prepare(
      "INSERT INTO publications (sequence, fingerprint, previous_fingerprint, kind, published_at, document, diff, announced) " +
        "VALUES (1, 'f1', NULL, 'baseline', '2026-10-01T08:00:00.000Z', '{}', '{}', '[]')",
    ),
    env.DB.prepare(
      "INSERT INTO publications (sequence, fingerprint, previous_fingerprint, kind, published_at, document, diff, announced, fanout_completed_at) " +
        "VALUES (2, 'f2', 'f1', 'notice', '2026-11-02T08:00:00.000Z', ?1, '{}', ?2, ?3)",
    ).bind(
      document,
      JSON.stringify(announced.map((c) => c.id)),
      options.fanoutCompletedAt === undefined ? "2026-11-02T09:00:00.000Z" : options.fanoutCompletedAt,
    ),
  ]);
}

export interface FixtureContact {
  email: string;
  locale?: "da" | "en";
  status?: "active" | "unsubscribed" | "suppressed" | "removed";
}

export interface FixtureCustomer {
  externalId: string;
  name: string;
  region?: string;
  cohort?: string | null;
  locale?: "da" | "en";
  concerned?: boolean;
  contacts: FixtureContact[];
}

/** A customer under contract, its contacts, and the plan row of publication 2. Returns the contact ids by address. */
export async function addCustomer(c: FixtureCustomer): Promise<Map<string, string>> {
  const ids = new Map(c.contacts.map((k) => [k.email, crypto.randomUUID()]));
  await env.DB.batch([
    env.DB.prepare(
      "INSERT INTO customers (external_id, name, region, contract_date, cohort, locale, created_at, updated_at) " +
        "VALUES (?1, ?2, ?3, '2024-01-01', NULL, ?4, '2026-10-01T00:00:00Z', '2026-10-01T00:00:00Z')",
    ).bind(c.externalId, c.name, c.region ?? "uk", c.locale ?? "en"),
    ...c.contacts.map((k) =>
      env.DB.prepare(
        "INSERT INTO customer_contacts (id, customer_id, email, name, locale, status, created_at, updated_at) " +
          "VALUES (?1, ?2, ?3, NULL, ?4, ?5, '2026-10-01T00:00:00Z', '2026-10-01T00:00:00Z')",
      ).bind(ids.get(k.email), c.externalId, k.email, k.locale ?? null, k.status ?? "active"),
    ),
    env.DB.prepare(
      "INSERT INTO publication_customers (publication_id, customer_id, region, cohort, concerned, reason) " +
        "VALUES (2, ?1, ?2, ?3, ?4, ?5)",
    ).bind(
      c.externalId,
      c.region ?? "uk",
      c.cohort === undefined ? "current" : c.cohort,
      c.concerned === false ? 0 : 1,
      c.concerned === false ? "no row of its Annex C changed (region ca, cohort current)" : null,
    ),
  ]);
  return ids;
}

/** A token for a contact, as a notice email to it carries one; only its hash is stored. */
export async function contactToken(contactId: string, publicationId: number | null = 2): Promise<string> {
  const token = newToken();
  await env.DB.prepare(
    "INSERT INTO contact_tokens (token_hash, contact_id, publication_id, created_at) VALUES (?1, ?2, ?3, '2026-11-02T09:00:00Z')",
  )
    .bind(await sha256Hex(token), contactId, publicationId)
    .run();
  return token;
}

export interface FixtureDelivery {
  recipientId: string;
  customerId: string | null;
  email: string;
  locale?: "da" | "en";
  status?: "pending" | "sending" | "sent" | "suppressed" | "dead" | "stuck";
  sentAt?: string | null;
  deliveredAt?: string | null;
  bouncedAt?: string | null;
  deadline?: string | null;
  honouredDeadline?: string | null;
  messageId?: string | null;
}

/** A row of the notice ledger for publication 2. */
export async function addDelivery(d: FixtureDelivery): Promise<void> {
  const sentAt = d.sentAt === undefined ? "2026-11-02T09:00:00.000Z" : d.sentAt;
  await env.DB.prepare(
    "INSERT INTO deliveries (publication_id, subscriber_id, chunk, status, email, locale, claimed_at, sent_at, " +
      "message_id, deadline, delivered_at, bounced_at, honoured_deadline, customer_id, audience, updated_at) " +
      "VALUES (2, ?1, 0, ?2, ?3, ?4, ?5, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, '2026-11-02T09:00:00.000Z')",
  )
    .bind(
      d.recipientId,
      d.status ?? "sent",
      d.email,
      d.locale ?? "en",
      sentAt,
      d.messageId === undefined ? `msg-${d.email}` : d.messageId,
      d.deadline === undefined ? "2026-11-16" : d.deadline,
      d.deliveredAt ?? null,
      d.bouncedAt ?? null,
      d.honouredDeadline ?? null,
      d.customerId,
      d.customerId ? JSON.stringify({ region: "uk", cohort: "current" }) : null,
    )
    .run();
}

/** The Copenhagen calendar date `days` from now: deadlines that are open or past whenever the tests run. */
export function dayFromNow(days: number): string {
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/Copenhagen" }).format(
    new Date(Date.now() + days * 86_400_000),
  );
}
