import { z } from "zod";

// Email addresses, one rule for every address the portal sends to: public subscribers (worker/http/validation.ts
// re-exports these) and the notice contacts of customers (domain/schema/customer.ts). Two rules would let an
// address in through one door that the other refuses, and compare unequal to itself across the two tables.

const MAX_ADDRESS = 254; // RFC 5321 forward-path limit
const MAX_LOCAL = 64;
const LOCAL_PART = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const DNS_LABEL = /^(?:xn--)?[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
// Control characters (CR/LF header injection), whitespace, and characters that separate or quote
// addresses in a header (, ; < > " ( ) [ ] \) are never part of an address we accept.
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\s,;<>"()[\]\\:]/u;

export type NormalizedEmail = { ok: true; email: string } | { ok: false; reason: string };

/**
 * Normalises an address before it is compared or stored: trimmed, lower-case (local part and
 * domain), internationalised domain converted to punycode. Anything that could smuggle a second
 * recipient or a header into an email is refused.
 */
export function normalizeEmail(raw: string): NormalizedEmail {
  const trimmed = raw.trim();
  if (trimmed.length === 0) return { ok: false, reason: "is empty" };
  if (FORBIDDEN.test(trimmed)) return { ok: false, reason: "contains characters an email address cannot have" };
  const at = trimmed.lastIndexOf("@");
  if (at <= 0 || at === trimmed.length - 1) return { ok: false, reason: "must look like name@example.com" };
  const local = trimmed.slice(0, at).toLowerCase();
  const rawDomain = trimmed.slice(at + 1).replace(/\.$/, "");
  if (local.length > MAX_LOCAL)
    return { ok: false, reason: `the part before @ is longer than ${MAX_LOCAL} characters` };
  if (!LOCAL_PART.test(local)) return { ok: false, reason: "the part before @ is not a valid mailbox name" };
  let domain: string;
  try {
    domain = new URL(`http://${rawDomain}/`).hostname;
  } catch {
    return { ok: false, reason: "the domain is not valid" };
  }
  const labels = domain.split(".");
  const tld = labels[labels.length - 1] ?? "";
  if (
    domain.length > 253 ||
    labels.length < 2 ||
    !labels.every((l) => DNS_LABEL.test(l)) ||
    !/^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/.test(tld)
  ) {
    return { ok: false, reason: "the domain is not valid" };
  }
  const email = `${local}@${domain}`;
  if (email.length > MAX_ADDRESS) return { ok: false, reason: `is longer than ${MAX_ADDRESS} characters` };
  return { ok: true, email };
}

export const EmailAddress = z
  .string({ error: "must be a string" })
  .max(320, "is too long")
  .transform((value, ctx) => {
    const result = normalizeEmail(value);
    if (!result.ok) {
      ctx.addIssue({
        code: "custom",
        message: `not a usable email address: ${result.reason}`,
        params: { rule: "invalid-email" },
      });
      return z.NEVER;
    }
    return result.email;
  });
