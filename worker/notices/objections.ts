import { isWithinObjectionWindow, objectionDeadline } from "../../domain/calendar.ts";
import type { Locale } from "../../domain/schema/common.ts";
import { subscriberLinks } from "../../emails/links.ts";
import { renderObjectionReceipt, renderVendorObjectionAlert } from "../../emails/objection.ts";
import { deliveryOf } from "../db/deliveries.ts";
import { insertObjection, type ObjectionRow } from "../db/objections.ts";
import { listPublications, type PublicationRow } from "../db/publications.ts";
import type { Subscriber } from "../db/subscribers.ts";
import { sendAndLog } from "../email/port.ts";
import { emailTransport } from "../email/transport.ts";
import { publicUrl, vendor } from "../env.ts";
import { ApiError } from "../http/errors.ts";
import type { DeliveryStatus } from "./engine/fanout.ts";

// Objections to a notice (DPA 5.3: the customer may object within 10 working days from receiving the notice;
// docs/architecture.md "Where each legal rule lives"). Free of HTTP: routes/notices.ts parses and answers.

const FINAL_OR_SENDING: readonly DeliveryStatus[] = ["sent", "sending", "stuck"];

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
  const objection: ObjectionRow = {
    id: crypto.randomUUID(),
    publicationId: id,
    subscriberId: subscriber.id,
    email: subscriber.email,
    organisation: request.organisation,
    reason: request.reason,
    deadline: window.deadline,
    createdAt: now.toISOString(),
  };
  await insertObjection(env.DB, objection);

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
