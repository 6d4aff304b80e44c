/**
 * A newly registered contact's one email, "you are the notice contact of <customer>" (README "Customers and
 * evidence"), sent through NOTICE_QUEUE rather than from the import request: a 10,000-customer import with two contacts
 * each is 200 provider calls, which neither fit in one request nor may leave faster than the shared RESEND_MAX_RPS
 * budget lets the fan-out's calls leave (notices/engine/rate.ts).
 *
 * Exactly once per registration, the way the fan-out is (notices/engine/fanout.ts):
 * 1. Planning: only a contact the import newly registers gets a registration (customer-import.ts plans an unchanged
 *    contact as unchanged), so a retried import queues nothing new.
 * 2. Ledger: each registration is its token's row in `contact_tokens`; `registration_sent_at` is set once the
 *    provider accepted the email, and a message delivered again skips what is set (migrations/0011).
 * 3. Same body, same key: the token is derived from the registration's random id (engine/tokens.ts), so a send that
 *    is retried after a lost answer has the same body under the same Idempotency-Key, and the provider sends it once.
 * The import queues its messages before it writes (so nothing is written that no message names); a message that
 * arrives before the write is visible finds none of its rows and is retried, and gives up once MAX_ATTEMPTS is spent
 * (the write then never happened).
 */
import { sha256Hex } from "../../domain/canonical.ts";
import { RESEND_BATCH_LIMIT } from "../../domain/notice.ts";
import type { Locale } from "../../domain/schema/common.ts";
import { contactRegisteredEmail } from "../../emails/customer.ts";
import { markRegistrationsSent, registrationsByHash } from "../db/customers.ts";
import { d1SlotBook } from "../db/send-log.ts";
import { emailTransport } from "../email/transport.ts";
import { publicUrl, vendor } from "../env.ts";
import { backoffSeconds } from "../notices/engine/fanout.ts";
import { slotLimiter, transportSender } from "../notices/engine/rate.ts";
import { contactRegistrationToken } from "../notices/engine/tokens.ts";

/** The queue message of a batch of registrations: at most one provider call's worth (RESEND_BATCH_LIMIT). */
export interface RegistrationMessage {
  kind: "contact-registrations";
  /** Random ids, one per registration; the token (and so its stored hash) is derived from each. */
  registrations: string[];
}

export function isRegistrationMessage(body: unknown): body is RegistrationMessage {
  if (!body || typeof body !== "object") return false;
  const b = body as Record<string, unknown>;
  return (
    b.kind === "contact-registrations" &&
    Array.isArray(b.registrations) &&
    b.registrations.length <= RESEND_BATCH_LIMIT &&
    b.registrations.every((id) => typeof id === "string")
  );
}

/** Cloudflare Queues: at most 100 messages per sendBatch call. */
const QUEUE_SEND_BATCH_LIMIT = 100;

/** A registration to be: its id (in the queue message) and the hash of its token (written with the contact). */
export interface Registration {
  id: string;
  tokenHash: string;
}

export async function newRegistration(env: Env): Promise<Registration> {
  const id = crypto.randomUUID();
  return { id, tokenHash: (await contactRegistrationToken(env.NOTICE_TOKEN_KEY, id)).hash };
}

/** Hands registrations to the queue in messages of at most RESEND_BATCH_LIMIT, before their rows are written. */
export async function queueRegistrations(env: Env, registrations: readonly Registration[]): Promise<void> {
  const messages: { body: RegistrationMessage }[] = [];
  for (let i = 0; i < registrations.length; i += RESEND_BATCH_LIMIT) {
    const ids = registrations.slice(i, i + RESEND_BATCH_LIMIT).map((r) => r.id);
    messages.push({ body: { kind: "contact-registrations", registrations: ids } });
  }
  for (let i = 0; i < messages.length; i += QUEUE_SEND_BATCH_LIMIT) {
    await env.NOTICE_QUEUE.sendBatch(messages.slice(i, i + QUEUE_SEND_BATCH_LIMIT));
  }
}

/** The links of a contact's emails: the contact page and the RFC 8058 one-click URL. */
export function contactLinks(env: Env, locale: Locale, token: string) {
  return {
    page: publicUrl(env, `/${locale}/customer/contact`, { token }),
    oneClick: publicUrl(env, "/api/customers/contacts/unsubscribe", { token, locale }),
  };
}

export type RegistrationResult = { action: "ack"; sent: number } | { action: "retry"; delaySeconds: number };

/**
 * One queue message: emails the registrations of it still unsent, to contacts still active under contract, as one
 * provider call within the shared send budget.
 */
export async function sendRegistrations(
  env: Env,
  message: RegistrationMessage,
  attempts: number,
  maxAttempts: number,
  maxRps: number,
): Promise<RegistrationResult> {
  const tokens = new Map<string, string>();
  for (const id of message.registrations) {
    const { token, hash } = await contactRegistrationToken(env.NOTICE_TOKEN_KEY, id);
    tokens.set(hash, token);
  }
  const rows = await registrationsByHash(env.DB, [...tokens.keys()]);
  const retry = (seconds: number, why: string): RegistrationResult => {
    if (attempts < maxAttempts) return { action: "retry", delaySeconds: seconds };
    console.error(`contact registrations given up after ${attempts} attempts: ${why}`, message.registrations);
    return { action: "ack", sent: 0 };
  };
  // The import that queued this message has not written its rows yet (or its write failed).
  if (rows.length === 0) return retry(backoffSeconds(attempts), "no registration of the message was written");

  const due = rows
    .filter((r) => r.sentAt === null && r.status === "active" && !r.customerEnded)
    .sort((a, b) => (a.tokenHash < b.tokenHash ? -1 : 1));
  if (due.length === 0) return { action: "ack", sent: 0 };
  const emails = due.map((r) => {
    const links = contactLinks(env, r.locale, tokens.get(r.tokenHash) ?? "");
    const email = contactRegisteredEmail({
      locale: r.locale,
      vendorName: vendor.name,
      customerName: r.customerName,
      contactUrl: links.page,
      oneClickUrl: links.oneClick,
    });
    return { to: r.email, ...email };
  });
  const hashes = due.map((r) => r.tokenHash);
  const key = `contact-registered/${await sha256Hex(hashes.join(","))}`;
  const sender = transportSender(emailTransport(env));
  // The budget's slot is awaited by the transport itself, after the body is serialised and right before the call
  // leaves: the provider counts calls as they arrive (notices/engine/rate.ts).
  const limiter = slotLimiter(d1SlotBook(env.DB), maxRps);
  const outcome = await sender.sendBatch(emails, key, () => limiter.acquire());
  switch (outcome.kind) {
    case "accepted":
      await markRegistrationsSent(env.DB, hashes, new Date().toISOString());
      return { action: "ack", sent: due.length };
    case "rate-limited":
      return retry(outcome.retryAfterSeconds, outcome.detail);
    case "unknown":
      return retry(outcome.retryAfterSeconds ?? backoffSeconds(attempts), outcome.detail);
    default:
      // A refusal cannot succeed with the same payload, and a key conflict means an earlier attempt went through:
      // either way sending again is wrong.
      console.error("contact registrations not sent", outcome.kind, outcome.detail);
      return { action: "ack", sent: 0 };
  }
}
