import { z } from "zod";
import { isKnownCountry } from "../countries.ts";

/** The two languages the portal is published in. `da` is the default (the vendor is Danish). */
export const LOCALES = ["da", "en"] as const;
export const Locale = z.enum(LOCALES).describe("Language code: da or en");
export type Locale = z.infer<typeof Locale>;

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** True for a real calendar date written as `YYYY-MM-DD` (2023-02-30 is written like one but is not). */
export function isCalendarDate(s: string): boolean {
  if (!ISO_DATE.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

/** A calendar date as `YYYY-MM-DD`. YAML turns unquoted dates into Date objects; both are accepted. */
export const IsoDate = z
  .preprocess(
    (v) => (v instanceof Date && !Number.isNaN(v.getTime()) ? v.toISOString().slice(0, 10) : v),
    z
      .string()
      .regex(ISO_DATE, "must be a date written as YYYY-MM-DD")
      .refine(isCalendarDate, "is not a real calendar date"),
  )
  .describe("A date written as YYYY-MM-DD");
export type IsoDate = string;

/** Text given in every locale; a missing translation is a content error, not a silent fallback. */
export const Localized = z
  .object({
    da: z.string().trim().min(1, "Danish text (da) is missing"),
    en: z.string().trim().min(1, "English text (en) is missing"),
  })
  .strict()
  .describe("The same text in Danish (da) and English (en)");
export type Localized = z.infer<typeof Localized>;

/** ISO 3166-1 alpha-2 country code, upper case (e.g. DK, IE, GB, US). */
export const CountryCode = z
  .string()
  .regex(/^[A-Z]{2}$/, "must be a two-letter ISO 3166-1 alpha-2 code in capitals, e.g. DK")
  .refine(isKnownCountry, "is not an assigned ISO 3166-1 alpha-2 country code")
  .describe("ISO 3166-1 alpha-2 country code, e.g. DK");

/** A stable identifier used in URLs and references: lower-case words joined by hyphens. */
export const Slug = z
  .string()
  .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, "must be lower-case letters, digits and single hyphens, e.g. microsoft-azure")
  .describe("Stable id used in URLs: lower-case letters, digits and hyphens");

export const Email = z.email("must be an email address").describe("Email address");
// A DNS host name: letters, digits and hyphens in dot-separated labels (punycode for international names).
const HOST_NAME = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/;

/**
 * A web address starting with https://, stored as the URL parser writes it (`new URL(x).href`): a `"`, `<`, space or
 * backtick in the path, query or fragment is percent-encoded, so it lands in an `href` as a valid URL and cannot end
 * the attribute. The host must be a plain DNS name (the parser lets a `"` through in a host), and there is no user
 * name or password.
 */
export const HttpsUrl = z
  .string({ error: "must be a web address" })
  .transform((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value.trim());
    } catch {
      ctx.addIssue({ code: "custom", message: "must be a web address, e.g. https://example.com/privacy" });
      return z.NEVER;
    }
    const problem =
      url.protocol !== "https:"
        ? "must start with https://"
        : !HOST_NAME.test(url.hostname)
          ? `must name its host with letters, digits, hyphens and dots (got "${url.hostname}")`
          : url.username || url.password
            ? "must not contain a user name or password"
            : undefined;
    if (problem) {
      ctx.addIssue({ code: "custom", message: problem });
      return z.NEVER;
    }
    // The parser writes a bare origin with a trailing "/"; without one as given, it stays without, so addresses that
    // were already clean keep their text, and Annex C its fingerprint.
    const bareOrigin = url.pathname === "/" && !url.search && !url.hash && !value.trim().endsWith("/");
    return bareOrigin ? url.href.slice(0, -1) : url.href;
  })
  .describe("Web address starting with https://");

export const PostalAddress = z
  .object({
    street: z.string().min(1),
    postalCode: z.string().min(1).optional(),
    city: z.string().min(1),
    country: CountryCode,
  })
  .strict()
  .describe("Registered postal address");
export type PostalAddress = z.infer<typeof PostalAddress>;
