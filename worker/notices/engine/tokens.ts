import { base64url, sha256Hex } from "../../../domain/canonical.ts";

// The tokens a notice email carries. A notice may be sent more than once under one Idempotency-Key (a retry after an
// unknown outcome), and Resend refuses the same key with a different body: the email, and so the token in its links,
// must come out the same every time. The tokens are therefore derived, not drawn at random: HMAC-SHA256 under
// NOTICE_TOKEN_KEY of a label and what the token belongs to, 256 bits, shaped like every other token (base64url, 43
// characters). Only its SHA-256 is stored, like every token. NOTICE_TOKEN_KEY is a key of its own: were it
// ADMIN_TOKEN, rotating the admin token between a batch's first attempt and its retry would change the body under the
// same Idempotency-Key, the provider would refuse it (409) and the batch would end `stuck`
// (tests/worker/hostile-text.test.ts, "rotating ADMIN_TOKEN"). Links already sent keep working when NOTICE_TOKEN_KEY
// itself is rotated (their hashes are stored); rotate it between fan-outs, not during one.
//
// A subscriber's manage token is derived from the subscriber alone (v2), so every notice carries the same one: it is
// registered once, when the subscription is confirmed (db/subscribers.ts), and the fan-out writes it only for a
// subscriber that does not have it yet (README "Benchmarks": a token per notice cost three D1 rows per email). The
// per-notice tokens of v1 stay stored, so the links of notices sent before keep working. A contact's notice token
// still names its publication (an objection made with it is to that notice).

const LABEL = "notice-manage-token/v2";
const CONTACT_LABEL = "notice-manage-token/v1";

// The imported key is reused: importing it for each of thousands of emails costs more than signing.
let cachedKey: { secret: string; key: Promise<CryptoKey> } | undefined;
function hmacKey(secret: string): Promise<CryptoKey> {
  if (cachedKey?.secret !== secret) {
    const key = crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    cachedKey = { secret, key };
  }
  return cachedKey.key;
}

async function derivedToken(secret: string, message: string): Promise<{ token: string; hash: string }> {
  if (!secret) throw new Error("NOTICE_TOKEN_KEY is not set: notice links cannot be signed");
  const mac = await crypto.subtle.sign("HMAC", await hmacKey(secret), new TextEncoder().encode(message));
  const token = base64url(mac);
  return { token, hash: await sha256Hex(token) };
}

/** The manage token every notice to one subscriber carries. */
export function noticeManageToken(secret: string, subscriberId: string): Promise<{ token: string; hash: string }> {
  return derivedToken(secret, `${LABEL}|${subscriberId}`);
}

/** The token a contact's notice carries: it names the publication (contact_tokens.publication_id). */
export function contactNoticeToken(
  secret: string,
  publicationId: number,
  contactId: string,
): Promise<{ token: string; hash: string }> {
  return derivedToken(secret, `${CONTACT_LABEL}|${publicationId}|${contactId}`);
}

/**
 * The token of a contact's registration email (worker/customers/registrations.ts), derived for the same reason from
 * the registration's own random id: the queue consumer that sends the email re-derives it, so only its hash is ever
 * stored and a retried send has the same body.
 */
export function contactRegistrationToken(
  secret: string,
  registrationId: string,
): Promise<{ token: string; hash: string }> {
  return derivedToken(secret, `contact-registration-token/v1|${registrationId}`);
}

/** The token a notice to one recipient carries: a subscriber's manage token, or a contact's notice token. */
export function noticeToken(
  secret: string,
  publicationId: number,
  recipientId: string,
  contact: boolean,
): Promise<{ token: string; hash: string }> {
  return contact ? contactNoticeToken(secret, publicationId, recipientId) : noticeManageToken(secret, recipientId);
}
