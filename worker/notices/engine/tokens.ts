import { base64url, sha256Hex } from "../../../domain/canonical.ts";

// The manage token a notice email carries. A notice may be sent more than once under one Idempotency-Key (a retry
// after an unknown outcome), and Resend refuses the same key with a different body: the email, and so the token in
// its links, must come out the same every time. The token is therefore derived, not drawn at random:
// HMAC-SHA256(secret, "notice-manage-token/v1" | publication | subscriber), 256 bits, shaped like every other token
// (base64url, 43 characters). Only its SHA-256 is stored, like every token. The secret is NOTICE_TOKEN_KEY, a key of
// its own: were it ADMIN_TOKEN, rotating the admin token between a batch's first attempt and its retry would change the
// body under the same Idempotency-Key, the provider would refuse it (409) and the batch would end `stuck`
// (tests/worker/hostile-text.test.ts, "rotating ADMIN_TOKEN"). Links already sent keep working when NOTICE_TOKEN_KEY
// itself is rotated (their hashes are stored); rotate it between fan-outs, not during one.

const LABEL = "notice-manage-token/v1";

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

export function noticeManageToken(
  secret: string,
  publicationId: number,
  subscriberId: string,
): Promise<{ token: string; hash: string }> {
  return derivedToken(secret, `${LABEL}|${publicationId}|${subscriberId}`);
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
