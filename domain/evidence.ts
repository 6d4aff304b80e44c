import { noticeDeadlines } from "./calendar.ts";
import { toCsv } from "./csv.ts";
import type { CustomerNotice } from "./customer-notice.ts";
import { addDays, copenhagenDate } from "./dates.ts";
import { isLateObjection, type ObjectionOutcome, type ObjectionState } from "./objection.ts";
import type { IsoDate, Locale } from "./schema/common.ts";
import type { Customer } from "./schema/customer.ts";
import type { Vendor } from "./schema/vendor.ts";

// The evidence of one publication, for an auditor's file: per customer, what it was told, when it received it, what
// deadline it got, whether it objected, and whether its consent is deemed. Everything here is derived from the
// ledger (deliveries, objections) and `now`; consent in particular is never stored, so it can never disagree with
// the deliveries it rests on. `now` may be an instant in the past or the future (an auditor's "what was the state on
// date X", README "Objections and evidence"): whatever the ledger records after it (a send, a delivery, a bounce, an
// objection, a staff step on one) is left out, so the evidence as of X reads as it would have read at X.

/** One contact's delivery as the ledger records it. Instants are ISO 8601 strings. */
export interface ContactDelivery {
  customer: string;
  email: string;
  locale?: Locale | undefined;
  sentAt?: string | undefined;
  /** From Resend's `email.delivered` webhook. */
  deliveredAt?: string | undefined;
  bouncedAt?: string | undefined;
  /** The provider's id of the email, to find it in the provider's logs. */
  messageId?: string | undefined;
  /** The deadline the email stated, as rendered; derived from `sentAt` when absent. */
  statedDeadline?: IsoDate | undefined;
}

export interface CustomerObjection {
  id: string;
  customer: string;
  objectedAt: string;
  state: ObjectionState;
  outcome?: ObjectionOutcome | undefined;
  changes: string[];
  /** Its steps (`received`, then staff's), oldest first: the state as of an instant is the last step by then. */
  steps?: readonly ObjectionStep[] | undefined;
}

export interface ObjectionStep {
  state: ObjectionState;
  outcome?: ObjectionOutcome | undefined;
  at: string;
}

export type ContactStatus = "not-sent" | "sent" | "delivered" | "bounced";

export interface ContactEvidence {
  email: string;
  locale: Locale | undefined;
  status: ContactStatus;
  sentAt: string | undefined;
  deliveredAt: string | undefined;
  bouncedAt: string | undefined;
  messageId: string | undefined;
  /** Why nothing was sent to a contact of a concerned customer. */
  notSentBecause?: "suppressed" | undefined;
}

/**
 * - `not-concerned`: nothing of its Annex C changed, so it is owed no notice;
 * - `notified`: at least one contact's delivery is proven;
 * - `pending`: sent, no delivery proven yet, not every address bounced;
 * - `not-notified`: no contact could be reached (all bounced, suppressed or never sent). Such a customer is never
 *   counted as consenting (DPA 5.3 runs from receipt, and there was none); the vendor is alerted.
 */
export type NoticeStatus = "not-concerned" | "notified" | "pending" | "not-notified";

export interface ObjectionEvidence extends Omit<CustomerObjection, "customer" | "steps"> {
  /** Made after the honoured deadline (DPA 5.3): accepted and recorded, but it does not stop deemed consent. */
  late: boolean;
}

export interface CustomerEvidence {
  customer: string;
  name: string | undefined;
  region: string;
  cohort: string | undefined;
  concerned: boolean;
  notConcernedReason: string | undefined;
  status: NoticeStatus;
  notNotified: boolean;
  contacts: ContactEvidence[];
  /** The earliest deadline an email to this customer stated. */
  statedDeadline: IsoDate | undefined;
  /**
   * The deadline the portal honours: for each delivered contact the later of its stated deadline and the one counted
   * from its delivery, and of those the latest, so no mailbox of the customer loses a day.
   */
  honouredDeadline: IsoDate | undefined;
  objections: ObjectionEvidence[];
  /**
   * DPA 5.3: silence for 10 working days from receipt counts as consent. The day after the honoured deadline, once
   * that day has come (Copenhagen), for a notified customer without an on-time objection; otherwise undefined.
   */
  consentDeemedOn: IsoDate | undefined;
}

export interface EvidenceTotals {
  /** Customers (all counts below but the contact counts are of customers). */
  customers: number;
  concerned: number;
  notified: number;
  pending: number;
  notNotified: number;
  objected: number;
  deemed: number;
  /** Contacts an email was sent to, delivered to, bounced from. */
  sent: number;
  delivered: number;
  bounced: number;
}

export interface PublicationEvidence {
  publication: { id: string; fingerprint: string; previousFingerprint: string | null; publishedAt: string };
  /** The instant the evidence was derived for: consent is deemed relative to it. */
  asOf: string;
  totals: EvidenceTotals;
  customers: CustomerEvidence[];
}

/**
 * What the evidence needs of a customer's notice: the plan (domain/customer-notice.ts) as the worker freezes it at
 * publish time (`publication_customers`), without the Annex C it carried.
 */
export type EvidenceNotice = Pick<
  CustomerNotice,
  "customer" | "region" | "cohort" | "concerned" | "reason" | "suppressed"
>;

export interface EvidenceInput {
  publication: PublicationEvidence["publication"];
  /** The plan of the publication, one per customer. */
  notices: readonly EvidenceNotice[];
  /** Customer records, for names and for contacts nothing was sent to. */
  customers: readonly Customer[];
  deliveries: readonly ContactDelivery[];
  objections: readonly CustomerObjection[];
  vendor: Pick<Vendor, "closingTime" | "workingDayCalendar" | "objectionWorkingDays">;
  now: Date;
}

const byThen = (at: string | undefined, now: Date): string | undefined =>
  at !== undefined && new Date(at).getTime() <= now.getTime() ? at : undefined;

/** A delivery as the ledger stood at `now`: a send, delivery or bounce recorded later had not happened yet. */
function deliveryAsOf(d: ContactDelivery, now: Date): ContactDelivery | undefined {
  const sentAt = byThen(d.sentAt, now);
  if (!sentAt) return undefined;
  return { ...d, sentAt, deliveredAt: byThen(d.deliveredAt, now), bouncedAt: byThen(d.bouncedAt, now) };
}

/** An objection as it stood at `now`: none if received later, else in the state of its last step by then. */
function objectionAsOf(o: CustomerObjection, now: Date): CustomerObjection | undefined {
  if (!byThen(o.objectedAt, now)) return undefined;
  const { steps, ...rest } = o;
  if (!steps || steps.length === 0) return rest;
  const last = steps.filter((s) => byThen(s.at, now)).at(-1);
  return { ...rest, state: last?.state ?? "received", outcome: last?.outcome };
}

function contactStatus(d: ContactDelivery | undefined): ContactStatus {
  if (d?.bouncedAt) return "bounced";
  if (d?.deliveredAt) return "delivered";
  if (d?.sentAt) return "sent";
  return "not-sent";
}

const earliest = (dates: IsoDate[]) => [...dates].sort()[0];
const latest = (dates: IsoDate[]) => [...dates].sort().at(-1);

function customerEvidence(
  notice: EvidenceNotice,
  record: Customer | undefined,
  deliveries: readonly ContactDelivery[],
  objections: readonly CustomerObjection[],
  input: EvidenceInput,
): CustomerEvidence {
  const byEmail = new Map(deliveries.map((d) => [d.email, d]));
  const emails = [...new Set([...deliveries.map((d) => d.email), ...(record?.contacts.map((c) => c.email) ?? [])])];
  const contactLocale = new Map(record?.contacts.map((c) => [c.email, c.locale ?? record.locale]) ?? []);
  const suppressed = new Set(notice.suppressed);
  const contacts = emails.sort().map((email): ContactEvidence => {
    const d = byEmail.get(email);
    const status = contactStatus(d);
    return {
      email,
      locale: d?.locale ?? contactLocale.get(email),
      status,
      sentAt: d?.sentAt,
      deliveredAt: d?.deliveredAt,
      bouncedAt: d?.bouncedAt,
      messageId: d?.messageId,
      ...(status === "not-sent" && notice.concerned && suppressed.has(email) ? { notSentBecause: "suppressed" } : {}),
    };
  });

  const stated: IsoDate[] = [];
  const honoured: IsoDate[] = [];
  for (const d of deliveries) {
    if (!d.sentAt) continue;
    const deadlines = noticeDeadlines(
      {
        sentAt: new Date(d.sentAt),
        deliveredAt: d.deliveredAt && !d.bouncedAt ? new Date(d.deliveredAt) : undefined,
        stated: d.statedDeadline,
      },
      input.vendor,
    );
    stated.push(deadlines.stated);
    if (d.deliveredAt && !d.bouncedAt) honoured.push(deadlines.honoured);
  }
  let status: NoticeStatus;
  if (!notice.concerned) status = "not-concerned";
  else if (contacts.some((c) => c.status === "delivered")) status = "notified";
  else if (contacts.some((c) => c.status === "sent")) status = "pending";
  else status = "not-notified";

  const honouredDeadline = status === "notified" ? latest(honoured) : undefined;
  const windowEnd = honouredDeadline ?? latest(stated);
  const objectionEvidence = objections
    .map(
      ({ customer: _c, ...o }): ObjectionEvidence => ({
        ...o,
        late: windowEnd !== undefined && isLateObjection(new Date(o.objectedAt), windowEnd),
      }),
    )
    .sort((a, b) => a.objectedAt.localeCompare(b.objectedAt) || a.id.localeCompare(b.id));
  const onTimeObjection = objectionEvidence.some((o) => !o.late);
  const consentDeemedOn =
    honouredDeadline !== undefined && !onTimeObjection && copenhagenDate(input.now) > honouredDeadline
      ? addDays(honouredDeadline, 1)
      : undefined;

  return {
    customer: notice.customer,
    name: record?.name,
    region: notice.region,
    cohort: notice.cohort,
    concerned: notice.concerned,
    notConcernedReason: notice.reason?.detail,
    status,
    notNotified: status === "not-notified",
    contacts,
    statedDeadline: earliest(stated),
    honouredDeadline,
    objections: objectionEvidence,
    consentDeemedOn,
  };
}

function groupBy<T extends { customer: string }>(items: readonly T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const list = out.get(item.customer);
    if (list) list.push(item);
    else out.set(item.customer, [item]);
  }
  return out;
}

/**
 * The evidence of a publication as of `now`: one row per customer of the plan, in externalId order. The ledger after
 * `now` does not count (see the top of this file).
 */
export function deriveEvidence(input: EvidenceInput): PublicationEvidence {
  const records = new Map(input.customers.map((c) => [c.externalId, c]));
  const deliveries = groupBy(input.deliveries.flatMap((d) => deliveryAsOf(d, input.now) ?? []));
  const objections = groupBy(input.objections.flatMap((o) => objectionAsOf(o, input.now) ?? []));
  const customers = [...input.notices]
    .sort((a, b) => (a.customer < b.customer ? -1 : a.customer > b.customer ? 1 : 0))
    .map((n) =>
      customerEvidence(
        n,
        records.get(n.customer),
        deliveries.get(n.customer) ?? [],
        objections.get(n.customer) ?? [],
        input,
      ),
    );
  const count = (f: (c: CustomerEvidence) => boolean) => customers.filter(f).length;
  const contacts = customers.flatMap((c) => c.contacts);
  return {
    publication: input.publication,
    asOf: input.now.toISOString(),
    totals: {
      customers: customers.length,
      concerned: count((c) => c.concerned),
      notified: count((c) => c.status === "notified"),
      pending: count((c) => c.status === "pending"),
      notNotified: count((c) => c.notNotified),
      objected: count((c) => c.objections.length > 0),
      deemed: count((c) => c.consentDeemedOn !== undefined),
      sent: contacts.filter((c) => c.sentAt !== undefined).length,
      delivered: contacts.filter((c) => c.status === "delivered").length,
      bounced: contacts.filter((c) => c.status === "bounced").length,
    },
    customers,
  };
}

export const EVIDENCE_CSV_COLUMNS = [
  "publication",
  "fingerprint",
  "customer",
  "customer_name",
  "region",
  "cohort",
  "concerned",
  "not_concerned_reason",
  "notice_status",
  "contact_email",
  "contact_locale",
  "contact_status",
  "sent_at",
  "delivered_at",
  "bounced_at",
  "provider_message_id",
  "stated_deadline",
  "honoured_deadline",
  "objection_id",
  "objection_state",
  "objection_outcome",
  "objection_late",
  "objected_changes",
  "consent_deemed_on",
  "not_notified",
] as const;

/**
 * The evidence as a spreadsheet: one row per customer and contact, a customer's own columns repeated on each of its
 * rows so the sheet can be filtered by any column. Several objections of one customer are joined with "; " in the
 * same order in each objection column. UTF-8 with a byte order mark and CRLF, like /annex-c.csv; every cell is made
 * safe from formula evaluation (domain/csv.ts).
 */
export function evidenceCsv(evidence: PublicationEvidence): string {
  const { publication } = evidence;
  const rows = evidence.customers.flatMap((c) => {
    const join = (f: (o: ObjectionEvidence) => string) => c.objections.map(f).join("; ");
    const own = {
      objection_id: join((o) => o.id),
      objection_state: join((o) => o.state),
      objection_outcome: join((o) => o.outcome ?? ""),
      objection_late: join((o) => (o.late ? "yes" : "no")),
      objected_changes: join((o) => o.changes.join(" ")),
    };
    return c.contacts.map((k) => {
      const row: Record<(typeof EVIDENCE_CSV_COLUMNS)[number], string> = {
        publication: publication.id,
        fingerprint: publication.fingerprint,
        customer: c.customer,
        customer_name: c.name ?? "",
        region: c.region,
        cohort: c.cohort ?? "",
        concerned: c.concerned ? "yes" : "no",
        not_concerned_reason: c.notConcernedReason ?? "",
        notice_status: c.status,
        contact_email: k.email,
        contact_locale: k.locale ?? "",
        contact_status: k.notSentBecause ?? k.status,
        sent_at: k.sentAt ?? "",
        delivered_at: k.deliveredAt ?? "",
        bounced_at: k.bouncedAt ?? "",
        provider_message_id: k.messageId ?? "",
        stated_deadline: c.statedDeadline ?? "",
        honoured_deadline: c.honouredDeadline ?? "",
        ...own,
        consent_deemed_on: c.consentDeemedOn ?? "",
        not_notified: c.notNotified ? "yes" : "no",
      };
      return EVIDENCE_CSV_COLUMNS.map((col) => row[col]);
    });
  });
  return toCsv(EVIDENCE_CSV_COLUMNS, rows, { windows: true, bom: true });
}
