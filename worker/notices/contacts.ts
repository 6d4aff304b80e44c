import { sha256Hex } from "../../domain/canonical.ts";
import type { Locale } from "../../domain/schema/common.ts";
import { contactByTokenHash } from "../db/customer-notices.ts";
import { looksLikeToken } from "../http/security.ts";

// A customer's notice contact acts with the token its notice carries (README "How notices and objections work"):
// derived like the subscriber's notice token (engine/tokens.ts) and registered in contact_tokens, as a hash, when the
// notice was claimed. Free of HTTP: the routes parse and answer.

export interface ContactByToken {
  contactId: string;
  customerId: string;
  email: string;
  locale: Locale;
  /** The publication whose notice carried the token (null for a token of another email). */
  publicationId: number | null;
}

/** The contact a token belongs to, or null (an unknown or malformed token: never an error that tells them apart). */
export async function contactFromToken(env: Env, token: string | undefined): Promise<ContactByToken | null> {
  if (!token || !looksLikeToken(token)) return null;
  return contactByTokenHash(env.DB, await sha256Hex(token));
}
