/**
 * A customer's notice contacts acting with the tokens their emails carry (README "Customers and evidence"): name a
 * different contact, one-click unsubscribe (RFC 8058), object to a notice. Tokens are 256 random bits (or, for a
 * notice, derived like a subscriber's manage token); only their SHA-256 is stored in `contact_tokens`.
 */
import { sha256Hex } from "../../domain/canonical.ts";
import { type ContactRecord, type CustomerRecord, findContactToken } from "../db/customers.ts";
import { looksLikeToken } from "../http/security.ts";

export interface AuthenticatedContact {
  contact: ContactRecord;
  customer: CustomerRecord;
  /** The publication a notice token came with; null for the token of the "you are the notice contact" email. */
  publicationId: number | null;
}

/**
 * The contact (and its customer) a token belongs to, or null for a token that is malformed, unknown or whose contact
 * was removed from the customer. An unsubscribed contact and an ended contract still authenticate: the caller decides
 * what they may still do (e.g. name a replacement, or object to a notice already received).
 */
export async function authenticateContact(env: Env, token: string): Promise<AuthenticatedContact | null> {
  if (!looksLikeToken(token)) return null;
  return findContactToken(env.DB, await sha256Hex(token));
}
