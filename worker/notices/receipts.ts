import { noticeDeadlines } from "../../domain/calendar.ts";
import { suppressContactAddress } from "../db/customer-notices.ts";
import { deliveryByMessage, type ReceiptRef, recordBounced, recordDelivered } from "../db/deliveries.ts";
import { suppressAddress } from "../db/subscribers.ts";
import { vendor } from "../env.ts";

// What the provider's webhooks prove about a notice (README "How notices and objections work"). DPA 5.3 counts the
// objection window from RECEIPT: Resend's `email.delivered` records when the email reached the recipient's server,
// and the deadline that receipt gives (a notice delivered after the vendor's closing time, 16:00 Copenhagen, or on a
// closed day is received the next working day: domain/calendar.ts `receivedOn`). The email stated the deadline
// counted from its send time; the portal honours the later of the two (the objection window, deadline.ics, the
// evidence). Free of HTTP: worker/routes/webhooks.ts verifies the signature and calls these.

/** What one receipt event did: the delivery it matched, and the deadline now honoured. */
export interface ReceiptResult {
  matched: boolean;
  honouredDeadline?: string | undefined;
}

/** `email.delivered`: records the first proven delivery of the email `ref` names and the deadline it honours. */
export async function recordDelivery(db: D1Database, ref: ReceiptRef, deliveredAt: Date): Promise<ReceiptResult> {
  const delivery = await deliveryByMessage(db, ref);
  const sentAt = delivery?.sentAt ?? delivery?.claimedAt;
  if (!delivery || !sentAt) return { matched: false };
  if (delivery.deliveredAt) return { matched: true };
  const deadlines = noticeDeadlines(
    { sentAt: new Date(sentAt), deliveredAt, stated: delivery.deadline ?? undefined },
    vendor,
  );
  await recordDelivered(db, ref, deliveredAt.toISOString(), deadlines.honoured);
  return { matched: true, honouredDeadline: deadlines.honoured };
}

/** `email.bounced`: the email is marked bounced in the ledger (the address is suppressed by `suppressRecipient`). */
export async function recordBounce(db: D1Database, ref: ReceiptRef, bouncedAt: Date): Promise<boolean> {
  return (await recordBounced(db, ref, bouncedAt.toISOString())) > 0;
}

/** A bounce or complaint: the address gets no further email, as a subscriber and as any customer's contact. */
export async function suppressRecipient(db: D1Database, email: string, reason: string, now: string): Promise<number> {
  const [subscribers, contacts] = await Promise.all([
    suppressAddress(db, email, reason, now),
    suppressContactAddress(db, email, now),
  ]);
  return subscribers + contacts;
}
