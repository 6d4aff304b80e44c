import { NOT_CONCERNED_REASONS } from "../../domain/customer-notice.ts";
import {
  type ContactDelivery,
  type CustomerObjection,
  deriveEvidence,
  type EvidenceNotice,
  type PublicationEvidence,
} from "../../domain/evidence.ts";
import type { Customer } from "../../domain/schema/customer.ts";
import { renderNotNotifiedAlert } from "../../emails/objection-steps.ts";
import {
  claimNotNotifiedAlerts,
  type EvidenceRows,
  evidenceRows,
  publicationsToAlert,
  releaseNotNotifiedAlerts,
} from "../db/evidence.ts";
import { listPublications, type PublicationRow } from "../db/publications.ts";
import { sendAndLog } from "../email/port.ts";
import { emailTransport } from "../email/transport.ts";
import { publicUrl, vendor } from "../env.ts";
import { ApiError } from "../http/errors.ts";

// The evidence of one publication for an auditor's file (DPA 5.2–5.5; README "Objections and evidence"): the ledger
// rows read from D1 (db/evidence.ts), derived by domain/evidence.ts as of the request's time — consent deemed is
// computed, never stored. A customer no contact of which could be reached is alerted to the vendor once, by the cron
// or by the first look at the evidence, whichever comes first.

/** Contacts in these states were left out of the fan-out on purpose (domain/customer-notice.ts `suppressed`). */
const NOT_WRITTEN_TO = new Set(["suppressed", "unsubscribed"]);

/** What the domain derives from, built from the rows: one notice, one customer record per planned customer. */
function evidenceInput(rows: EvidenceRows) {
  const contactsOf = new Map<string, EvidenceRows["contacts"]>();
  for (const k of rows.contacts) {
    if (k.status === "removed") continue;
    contactsOf.set(k.customerId, [...(contactsOf.get(k.customerId) ?? []), k]);
  }
  const notices: EvidenceNotice[] = rows.planned.map((p) => ({
    customer: p.customerId,
    region: p.region,
    cohort: p.cohort ?? undefined,
    concerned: p.concerned,
    reason: p.concerned
      ? undefined
      : { code: "no-row-changed", detail: p.reason ?? NOT_CONCERNED_REASONS["no-row-changed"] },
    suppressed: (contactsOf.get(p.customerId) ?? []).filter((k) => NOT_WRITTEN_TO.has(k.status)).map((k) => k.email),
  }));
  const customers: Customer[] = rows.customers.map((c) => ({
    externalId: c.externalId,
    name: c.name,
    region: c.region,
    contractDate: c.contractDate,
    ...(c.cohort ? { cohort: c.cohort } : {}),
    locale: c.locale,
    contacts: (contactsOf.get(c.externalId) ?? []).map((k) => ({
      email: k.email,
      ...(k.name ? { name: k.name } : {}),
      ...(k.locale ? { locale: k.locale } : {}),
    })),
  }));
  const deliveries: ContactDelivery[] = rows.deliveries
    .filter((d) => d.email !== null)
    .map((d) => ({
      customer: d.customerId,
      email: d.email ?? "",
      locale: d.locale ?? undefined,
      sentAt: d.sentAt ?? undefined,
      deliveredAt: d.deliveredAt ?? undefined,
      bouncedAt: d.bouncedAt ?? undefined,
      messageId: d.messageId ?? undefined,
      statedDeadline: d.deadline ?? undefined,
    }));
  const objections: CustomerObjection[] = rows.objections.map((o) => ({
    id: o.id,
    customer: o.customerId,
    objectedAt: o.createdAt,
    state: o.state,
    outcome: o.outcome ?? undefined,
    changes: o.changes,
    steps: o.steps.map((s) => ({ state: s.state, outcome: s.outcome ?? undefined, at: s.at })),
  }));
  return { notices, customers, deliveries, objections };
}

export interface Evidence extends PublicationEvidence {
  /** When each not-notified customer was alerted to the vendor (customer id → instant). */
  alerted: Record<string, string>;
}

async function publicationOf(env: Env, id: number): Promise<PublicationRow> {
  const pub = (await listPublications(env.DB)).find((p) => p.sequence === id);
  if (!pub) throw new ApiError("not_found", `There is no publication ${id}.`);
  return pub;
}

/**
 * The evidence of publication `id` as of `now`. Once its fan-out is complete, customers newly found not notified are
 * alerted to VENDOR_ALERT_EMAIL, each once (before that, a customer may simply not be sent to yet): the alert is handed
 * to `defer` (to run after the answer), and resolves to the customers it alerted.
 * Evidence as of another instant than the present (`alert: false`) alerts nobody: at a past instant a customer may
 * not have been sent to yet.
 */
export async function publicationEvidence(
  env: Env,
  id: number,
  now: Date,
  defer: (alert: Promise<string[]>) => void,
  options: { alert?: boolean } = {},
): Promise<Evidence> {
  const pub = await publicationOf(env, id);
  const rows = await evidenceRows(env.DB, id);
  const evidence = deriveEvidence({
    publication: {
      id: String(pub.sequence),
      fingerprint: pub.fingerprint,
      previousFingerprint: pub.previousFingerprint,
      publishedAt: pub.publishedAt,
    },
    ...evidenceInput(rows),
    vendor,
    now,
  });
  const alerted: Record<string, string> = {};
  for (const p of rows.planned) if (p.notNotifiedAlertedAt) alerted[p.customerId] = p.notNotifiedAlertedAt;

  const unalerted = evidence.customers.filter((c) => c.notNotified && !alerted[c.customer]);
  if ((options.alert ?? true) && pub.fanoutCompletedAt && unalerted.length > 0) {
    const at = now.toISOString();
    const claimed = await claimNotNotifiedAlerts(
      env.DB,
      id,
      unalerted.map((c) => c.customer),
      at,
    );
    for (const c of claimed) alerted[c] = at;
    if (claimed.length > 0) defer(alertNotNotified(env, evidence, claimed, at));
  }
  return { ...evidence, alerted };
}

/**
 * DPA 5.2 owes each customer written notice: the cron (worker/cron.ts) alerts the vendor about every customer found
 * not notified once a publication's fan-out is complete, without waiting for someone to look at the evidence, each
 * customer once per publication (the same claim as the evidence's). It watches a publication for the notice period
 * after it was published: past it the notice can no longer come 30 days ahead, and the evidence still alerts on a
 * look. Returns the customers alerted, per publication.
 */
export async function alertNotNotifiedCustomers(env: Env, now: Date): Promise<Record<number, string[]>> {
  const since = new Date(now.getTime() - vendor.noticePeriodDays * 86_400_000).toISOString();
  const alerted: Record<number, string[]> = {};
  for (const id of await publicationsToAlert(env.DB, since)) {
    const alerts: Promise<string[]>[] = [];
    await publicationEvidence(env, id, now, (alert) => alerts.push(alert));
    const fresh = (await Promise.all(alerts)).flat();
    if (fresh.length > 0) alerted[id] = fresh;
  }
  return alerted;
}

async function alertNotNotified(
  env: Env,
  evidence: PublicationEvidence,
  customerIds: string[],
  at: string,
): Promise<string[]> {
  const ids = new Set(customerIds);
  const email = renderNotNotifiedAlert({
    publicationId: evidence.publication.id,
    fingerprint: evidence.publication.fingerprint,
    customers: evidence.customers
      .filter((c) => ids.has(c.customer))
      .map((c) => ({ id: c.customer, name: c.name, region: c.region, cohort: c.cohort })),
    evidenceUrl: publicUrl(env, `/api/admin/publications/${evidence.publication.id}/evidence.html`),
  });
  const result = await sendAndLog(emailTransport(env), [{ to: env.VENDOR_ALERT_EMAIL, ...email }], "not notified", {
    idempotencyKey: `evidence/${evidence.publication.id}/not-notified/${at}`,
  });
  if (result.outcome === "sent") return customerIds;
  // Not sent: the next look at the evidence (or the next cron tick) claims these customers again, rather than never
  // alerting.
  await releaseNotNotifiedAlerts(env.DB, Number(evidence.publication.id), customerIds, at);
  return [];
}
