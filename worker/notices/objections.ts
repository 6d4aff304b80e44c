import { isWithinObjectionWindow, noticeDeadlines, objectionDeadline } from "../../domain/calendar.ts";
import { isLateObjection, objectedChanges } from "../../domain/objection.ts";
import { type ObjectionReceipt, objectionReceipt, signReceipt } from "../../domain/objection-receipt.ts";
import type { Locale } from "../../domain/schema/common.ts";
import { subscriberLinks } from "../../emails/links.ts";
import { renderObjectionReceipt, renderVendorObjectionAlert } from "../../emails/objection.ts";
import { renderCustomerObjectionAlert, renderCustomerObjectionReceipt } from "../../emails/objection-steps.ts";
import { type AuthenticatedContact, authenticateContact } from "../customers/contacts.ts";
import { deliveryOf } from "../db/deliveries.ts";
import {
  type AnnouncedChange,
  announcedChanges,
  customerDeliveries,
  insertObjection,
  type ObjectionRow,
} from "../db/objections.ts";
import { listPublications, type PublicationRow } from "../db/publications.ts";
import type { Subscriber } from "../db/subscribers.ts";
import { sendAndLog } from "../email/port.ts";
import { emailTransport } from "../email/transport.ts";
import { publicUrl, vendor } from "../env.ts";
import { ApiError } from "../http/errors.ts";
import { authenticate } from "../subscriptions/use-cases.ts";
import type { DeliveryStatus } from "./engine/fanout.ts";
import { receiptKey } from "./receipt-key.ts";

// Objections to a notice (DPA 5.3: the customer may object within 10 working days from receiving the notice;
// docs/architecture.md "Where each legal rule lives"). Free of HTTP: routes/notices.ts parses and answers.
// Two kinds of objector: a customer, through the token of one of its notice contacts, whose objection names the
// changes, is accepted even when late (marked so) and gets a signed receipt; and a self-subscriber, whose objection
// is refused after its window (README "Where this differs").

const FINAL_OR_SENDING: readonly string[] = ["sent", "sending", "stuck"] satisfies DeliveryStatus[];

export interface ObjectionWindow {
  deadline: string;
  deliveredAt: string;
}

/**
 * The recipient's own window (a subscriber's, or a customer contact's): counted from their delivery (the provider
 * accepted the email; the first attempt if that is all we know). The later of that, the deadline quoted in the email
 * and the one the proven receipt gives (honoured_deadline, from Resend's email.delivered, worker/routes/webhooks.ts)
 * applies: nobody loses a day they were promised in writing, nor one a late delivery gave them (DPA 5.3).
 */
export async function objectionWindow(env: Env, publicationId: number, subscriberId: string): Promise<ObjectionWindow> {
  const delivery = await deliveryOf(env.DB, publicationId, subscriberId);
  if (!delivery || !FINAL_OR_SENDING.includes(delivery.status)) {
    throw new ApiError("not_found", `Notice ${publicationId} was not sent to this subscription.`);
  }
  const sentAt = delivery.sentAt ?? delivery.claimedAt;
  if (!sentAt) throw new ApiError("not_found", `Notice ${publicationId} was not sent to this subscription.`);
  const computed = objectionDeadline(new Date(sentAt), vendor.workingDayCalendar, vendor.objectionWorkingDays);
  const quoted = delivery.deadline ?? computed;
  // ISO dates compare as text: the latest of them.
  const deadline = [quoted, computed, delivery.honouredDeadline ?? computed].sort().at(-1) ?? computed;
  return { deadline, deliveredAt: delivery.deliveredAt ?? sentAt };
}

/** The publication of notice `id`; 404 for a baseline or an unknown id. */
export async function noticeExists(env: Env, id: number): Promise<PublicationRow> {
  const pub = (await listPublications(env.DB)).find((p) => p.sequence === id && p.kind === "notice");
  if (!pub) throw new ApiError("not_found", `There is no notice ${id}.`);
  return pub;
}

export interface ObjectionRequest {
  publicationId: number;
  subscriber: Subscriber;
  /** The manage token the subscriber presented: the receipt's links carry it. */
  token: string;
  organisation: string;
  reason: string;
  /** Optional for a subscriber: the changes objected to. */
  changes?: string[] | undefined;
  locale: Locale;
}

/**
 * Records an objection made within the subscriber's window (409 after it), then mails a receipt to the subscriber and
 * an alert to the vendor through `defer` (the request's waitUntil), so the answer never waits on a send.
 */
export async function recordObjection(
  env: Env,
  request: ObjectionRequest,
  now: Date,
  defer: (work: Promise<unknown>) => void,
): Promise<ObjectionRow> {
  const { publicationId: id, subscriber, locale } = request;
  const pub = await noticeExists(env, id);
  const window = await objectionWindow(env, id, subscriber.id);
  if (!isWithinObjectionWindow(now, window.deadline)) {
    throw new ApiError(
      "conflict",
      `The objection window for notice ${id} closed at the end of ${window.deadline} (Copenhagen time): ` +
        `${vendor.objectionWorkingDays} Danish working days from its delivery on ${window.deliveredAt.slice(0, 10)}. ` +
        `Contact ${vendor.privacyContact} if you still wish to raise a concern.`,
    );
  }
  const changes = request.changes?.length ? namedChanges(id, request.changes, await announcedChanges(env.DB, id)) : [];
  const objection: ObjectionRow = {
    id: crypto.randomUUID(),
    publicationId: id,
    subscriberId: subscriber.id,
    email: subscriber.email,
    organisation: request.organisation,
    reason: request.reason,
    deadline: window.deadline,
    createdAt: now.toISOString(),
    customerId: null,
    changes: changes.map((c) => c.id),
    state: "received",
    outcome: null,
    late: false,
    receipt: null,
  };
  await insertObjection(env.DB, objection, { note: "received within the deadline", actor: "subscriber" });

  const common = {
    vendor,
    objectionId: objection.id,
    publicationId: String(id),
    fingerprint: pub.fingerprint,
    organisation: objection.organisation,
    reason: objection.reason,
    receivedAt: objection.createdAt,
    deadline: objection.deadline,
    subscriberEmail: subscriber.email,
  };
  const receipt = renderObjectionReceipt({
    ...common,
    locale,
    links: subscriberLinks(env.PUBLIC_BASE_URL, locale, request.token),
  });
  const alert = renderVendorObjectionAlert({ ...common, adminUrl: publicUrl(env, "/api/admin/publications") });
  const transport = emailTransport(env);
  defer(
    Promise.all([
      sendAndLog(transport, [{ to: subscriber.email, ...receipt }], "objection receipt", {
        idempotencyKey: `objection/${objection.id}/receipt`,
      }),
      sendAndLog(transport, [{ to: env.VENDOR_ALERT_EMAIL, ...alert }], "objection alert", {
        idempotencyKey: `objection/${objection.id}/alert`,
      }),
    ]),
  );
  return objection;
}

/** Who objects: a customer through one of its notice contacts, or a self-subscriber. */
export type Objector = ({ kind: "customer" } & AuthenticatedContact) | { kind: "subscriber"; subscriber: Subscriber };

/**
 * The objector a token belongs to: a contact's token (its customer objects), else a subscriber's manage token;
 * 401 for neither. The two kinds are kept in separate tables, so a token is never both.
 */
export async function objector(env: Env, token: string | undefined): Promise<Objector> {
  const contact = token ? await authenticateContact(env, token) : null;
  if (contact) return { kind: "customer", ...contact };
  return { kind: "subscriber", subscriber: await authenticate(env, token) };
}

/**
 * A customer's window: the latest deadline honoured for any of its contacts' deliveries of the notice — the stored
 * honoured deadline (the later of the stated one and the one from proven receipt), else the stated one — so no
 * mailbox of the customer loses a day it was promised (DPA 5.3).
 */
export async function customerObjectionWindow(env: Env, publicationId: number, customerId: string): Promise<string> {
  const deadlines = (await customerDeliveries(env.DB, publicationId, customerId))
    .filter((d) => FINAL_OR_SENDING.includes(d.status) && (d.sentAt ?? d.claimedAt))
    .map(
      (d) =>
        d.honouredDeadline ??
        d.deadline ??
        noticeDeadlines({ sentAt: new Date(d.sentAt ?? d.claimedAt ?? "") }, vendor).stated,
    )
    .sort();
  const latest = deadlines.at(-1);
  if (!latest) throw new ApiError("not_found", `Notice ${publicationId} was not sent to customer ${customerId}.`);
  return latest;
}

/** The changes an objection names, checked against those the notice announced (422 naming the unknown ones). */
function namedChanges(id: number, named: readonly string[], announced: readonly AnnouncedChange[]): AnnouncedChange[] {
  const check = objectedChanges(
    named,
    announced.map((c) => c.id),
  );
  if (!check.ok) {
    const message =
      check.unknown.length > 0
        ? `notice ${id} did not announce ${check.unknown.join(", ")}; it announced ${announced.map((c) => c.id).join(", ")}`
        : "name at least one change of the notice";
    throw new ApiError("invalid_input", `changes: ${message}`, { issues: [{ path: "changes", message }] });
  }
  return check.changes.map((c) => announced.find((a) => a.id === c) as AnnouncedChange);
}

export interface CustomerObjectionRequest {
  publicationId: number;
  objector: AuthenticatedContact;
  changes: string[];
  reason: string;
  locale: Locale;
}

export interface CustomerObjection {
  objection: ObjectionRow;
  changes: AnnouncedChange[];
  receipt: ObjectionReceipt;
}

/**
 * Records a customer's objection — on time or late (DPA 5.3: a late one is accepted, marked late, and the customer is
 * told so) — with its receipt signed as a JWS (domain/objection-receipt.ts), then mails the receipt to the contact
 * and an alert to the vendor through `defer`.
 */
export async function recordCustomerObjection(
  env: Env,
  request: CustomerObjectionRequest,
  now: Date,
  defer: (work: Promise<unknown>) => void,
): Promise<CustomerObjection> {
  const { publicationId: id, objector: who, locale } = request;
  const pub = await noticeExists(env, id);
  const deadline = await customerObjectionWindow(env, id, who.customer.externalId);
  const changes = namedChanges(id, request.changes, await announcedChanges(env.DB, id));
  const receipt = objectionReceipt({
    publication: { id: String(id), fingerprint: pub.fingerprint },
    customer: who.customer.externalId,
    changes: changes.map((c) => c.id),
    receivedAt: now,
    deadline,
  });
  const jws = await signReceipt(receipt, await receiptKey(env));
  const late = isLateObjection(now, deadline);
  const objection: ObjectionRow = {
    id: crypto.randomUUID(),
    publicationId: id,
    subscriberId: who.contact.id,
    email: who.contact.email,
    organisation: who.customer.name,
    reason: request.reason,
    deadline,
    createdAt: receipt.receivedAt,
    customerId: who.customer.externalId,
    changes: receipt.changes,
    state: "received",
    outcome: null,
    late,
    receipt: jws,
  };
  await insertObjection(env.DB, objection, {
    note: late
      ? `received after the deadline of ${deadline}: accepted and marked late (DPA 5.3)`
      : "received within the deadline",
    actor: "customer",
  });

  const common = {
    vendor,
    objectionId: objection.id,
    publicationId: String(id),
    fingerprint: pub.fingerprint,
    changes,
    receivedAt: objection.createdAt,
    deadline,
    late,
    reason: objection.reason,
  };
  const receiptEmail = renderCustomerObjectionReceipt({
    ...common,
    locale,
    customerName: who.customer.name,
    receipt: jws,
    jwksUrl: publicUrl(env, "/.well-known/jwks.json"),
  });
  const alert = renderCustomerObjectionAlert({
    ...common,
    customerId: who.customer.externalId,
    customerName: who.customer.name,
    contactEmail: who.contact.email,
    adminUrl: publicUrl(env, `/api/admin/objections/${objection.id}`),
  });
  const transport = emailTransport(env);
  defer(
    Promise.all([
      sendAndLog(transport, [{ to: who.contact.email, ...receiptEmail }], "objection receipt", {
        idempotencyKey: `objection/${objection.id}/receipt`,
      }),
      sendAndLog(transport, [{ to: env.VENDOR_ALERT_EMAIL, ...alert }], "objection alert", {
        idempotencyKey: `objection/${objection.id}/alert`,
      }),
    ]),
  );
  return { objection, changes, receipt };
}
