/**
 * Customers under contract, staff side (README "Customers and evidence"): upsert one, import many, list, read with its
 * notice history, end a contract. Free of HTTP: routes/customers.ts parses and answers; SQL is in db/customers.ts.
 * DPA 5.2 owes written notice to each customer, so a customer's record and contacts are what every notice plan reads.
 */
import {
  type ImportFormat,
  type ImportMode,
  type ImportPlan,
  parseCustomerImport,
  planImport,
} from "../../domain/customer-import.ts";
import { type Customer, customerCohort, customerSchema } from "../../domain/schema/customer.ts";
import {
  type CustomerWithContacts,
  type CustomerWrite,
  customerHistory,
  endCustomer,
  loadCustomers,
  writeCustomers,
} from "../db/customers.ts";
import { vendor } from "../env.ts";
import { ApiError } from "../http/errors.ts";
import { toFieldIssues } from "../http/validation.ts";
import type { ContactDeps } from "./contacts.ts";
import { newRegistration, queueRegistrations, type Registration } from "./registrations.ts";

export type Deps = ContactDeps;

/** The customer a stored record says: its contacts not removed (an unsubscribed one is still listed). */
function asCustomer({ customer, contacts }: CustomerWithContacts): Customer {
  return {
    externalId: customer.externalId,
    name: customer.name,
    region: customer.region,
    contractDate: customer.contractDate,
    ...(customer.cohort ? { cohort: customer.cohort } : {}),
    locale: customer.locale,
    contacts: contacts.map((k) => ({
      email: k.email,
      ...(k.name ? { name: k.name } : {}),
      ...(k.locale ? { locale: k.locale } : {}),
    })),
  };
}

/** A customer as the admin API shows it: the cohort its Annex C is resolved for, and whether staff named it. */
export function customerView({ customer, contacts }: CustomerWithContacts) {
  return {
    externalId: customer.externalId,
    name: customer.name,
    region: customer.region,
    contractDate: customer.contractDate,
    cohort: customerCohort(
      { contractDate: customer.contractDate, cohort: customer.cohort ?? undefined },
      vendor.cohorts,
    ),
    cohortNamed: customer.cohort !== null,
    locale: customer.locale,
    contacts: contacts.map((k) => ({ id: k.id, email: k.email, name: k.name, locale: k.locale, status: k.status })),
    createdAt: customer.createdAt,
    updatedAt: customer.updatedAt,
    endedAt: customer.endedAt,
  };
}

/**
 * Plans `incoming` over the stored customers (all of them, or those of `scope`) and, unless `dryRun`, writes the plan
 * in one batch and queues one registration email for each newly registered contact. Planning is idempotent
 * (domain/customer-import.ts), so a file imported twice writes nothing the second time and registers no one again.
 */
async function apply(
  deps: Deps,
  incoming: readonly Customer[],
  options: { mode: ImportMode; dryRun: boolean; scope?: readonly string[] },
): Promise<ImportPlan> {
  const stored = await loadCustomers(deps.env.DB, {
    includeEnded: true,
    ...(options.scope ? { externalIds: options.scope } : {}),
  });
  const existing = [...stored.values()].filter((e) => e.customer.endedAt === null).map(asCustomer);
  const plan = planImport(existing, incoming, { mode: options.mode });
  if (options.dryRun) return plan;

  const write: CustomerWrite = {
    customers: [],
    contacts: [],
    removedContacts: [],
    ended: plan.removed.map((c) => c.externalId),
    tokens: [],
  };
  const registrations: Registration[] = [];
  // A `created` customer may be one whose contract had ended: it starts again with the contacts it already had.
  for (const after of [...plan.created, ...plan.updated.map((u) => u.after)]) {
    const { externalId } = after;
    write.customers.push({
      externalId,
      name: after.name,
      region: after.region,
      contractDate: after.contractDate,
      cohort: after.cohort ?? null,
      locale: after.locale,
    });
    const known = new Map((stored.get(externalId)?.contacts ?? []).map((k) => [k.email, k]));
    for (const contact of after.contacts) {
      const existingContact = known.get(contact.email);
      known.delete(contact.email);
      write.contacts.push({
        id: existingContact?.id ?? crypto.randomUUID(),
        customerId: externalId,
        email: contact.email,
        name: contact.name ?? null,
        locale: contact.locale ?? null,
      });
      if (existingContact) continue;
      const registration = await newRegistration(deps.env);
      write.tokens.push({ customerId: externalId, email: contact.email, tokenHash: registration.tokenHash });
      registrations.push(registration);
    }
    write.removedContacts.push(...[...known.values()].map((k) => k.id));
  }
  // Queued before the write: a registration the write then lacks is given up by the consumer, whereas one written
  // but never queued would never be sent (customers/registrations.ts).
  await queueRegistrations(deps.env, registrations);
  await writeCustomers(deps.env.DB, write, deps.now.toISOString());
  return plan;
}

/** The answer to an import or a dry run: what was (or would be) created, updated, left unchanged and removed. */
export function importReport(plan: ImportPlan, dryRun: boolean) {
  return {
    mode: plan.mode,
    dryRun,
    counts: {
      created: plan.created.length,
      updated: plan.updated.length,
      unchanged: plan.unchanged.length,
      removed: plan.removed.length,
    },
    created: plan.created.map((c) => c.externalId),
    updated: plan.updated.map((u) => ({ externalId: u.after.externalId, fields: u.fields })),
    unchanged: plan.unchanged,
    removed: plan.removed.map((c) => c.externalId),
  };
}

export type UpsertStatus = "created" | "updated" | "unchanged";

/** PUT one customer: idempotent, the same body twice answers `unchanged` and writes nothing. */
export async function upsertCustomer(
  deps: Deps,
  externalId: string,
  body: Record<string, unknown>,
): Promise<{ status: UpsertStatus; customer: ReturnType<typeof customerView> }> {
  if (body.externalId !== undefined && body.externalId !== externalId) {
    throw new ApiError(
      "invalid_input",
      `externalId: the body names ${String(body.externalId)}, the URL ${externalId}.`,
      {
        issues: [{ path: "externalId", message: "must be the externalId of the URL" }],
      },
    );
  }
  const parsed = customerSchema(vendor).safeParse({ ...body, externalId });
  if (!parsed.success) {
    const issues = toFieldIssues(parsed.error);
    throw new ApiError("invalid_input", issues.map((i) => `${i.path}: ${i.message}`).join("; "), { issues });
  }
  const plan = await apply(deps, [parsed.data], { mode: "merge", dryRun: false, scope: [externalId] });
  const status: UpsertStatus = plan.created.length > 0 ? "created" : plan.updated.length > 0 ? "updated" : "unchanged";
  const saved = (await loadCustomers(deps.env.DB, { externalIds: [externalId] })).get(externalId);
  if (!saved) throw new Error(`customer ${externalId} was written but cannot be read back`);
  return { status, customer: customerView(saved) };
}

/**
 * An import, all or nothing: a file with any bad row answers 422 with every error and writes nothing; a good one is
 * written in one batch (one transaction). `merge` (the default) leaves customers the file does not mention alone;
 * `full-sync` ends their contracts.
 */
export async function importCustomers(
  deps: Deps,
  body: Uint8Array,
  format: ImportFormat,
  options: { mode: ImportMode; dryRun: boolean },
) {
  const result = parseCustomerImport(body, format, vendor);
  if (!result.ok) {
    const n = result.errors.length;
    throw new ApiError("invalid_input", `The import has ${n} error${n === 1 ? "" : "s"}; nothing was written.`, {
      issues: result.errors,
    });
  }
  return importReport(await apply(deps, result.customers, options), options.dryRun);
}

/** Customers under contract (and ended ones with `includeEnded`), of one region and cohort if asked. */
export async function listCustomers(
  deps: Deps,
  filter: { region?: string | undefined; cohort?: string | undefined; includeEnded: boolean },
) {
  const stored = await loadCustomers(deps.env.DB, {
    includeEnded: filter.includeEnded,
    ...(filter.region ? { region: filter.region } : {}),
  });
  const customers = [...stored.values()].map(customerView);
  return filter.cohort ? customers.filter((c) => c.cohort === filter.cohort) : customers;
}

/** One customer with every contact it ever had and its notice history (deliveries and objections). */
export async function customerDetail(deps: Deps, externalId: string) {
  const stored = (
    await loadCustomers(deps.env.DB, { externalIds: [externalId], includeEnded: true, includeRemoved: true })
  ).get(externalId);
  if (!stored) throw new ApiError("not_found", `There is no customer ${externalId}.`);
  return { ...customerView(stored), ...(await customerHistory(deps.env.DB, externalId)) };
}

/** DELETE: ends the contract (no further notices) and keeps every row a notice or objection refers to. */
export async function endContract(deps: Deps, externalId: string) {
  await endCustomer(deps.env.DB, externalId, deps.now.toISOString());
  const stored = (await loadCustomers(deps.env.DB, { externalIds: [externalId], includeEnded: true })).get(externalId);
  if (!stored) throw new ApiError("not_found", `There is no customer ${externalId}.`);
  return { status: "ended" as const, externalId, endedAt: stored.customer.endedAt };
}
