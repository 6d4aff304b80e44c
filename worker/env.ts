import { parse } from "yaml";
import vendorYaml from "../content/vendor.yaml";
import { LOCALES, type Locale } from "../domain/schema/common.ts";
import { Vendor } from "../domain/schema/vendor.ts";

/** The vendor file the site is built from, bundled as text and parsed with the same domain schema. */
export const vendor: Vendor = Vendor.parse(parse(vendorYaml));

export { LOCALES, type Locale };
export const DEFAULT_LOCALE: Locale = vendor.defaultLocale;

/** Customer regions a subscriber may follow (content/vendor.yaml, e.g. uk, de, ca, eea, ch). */
export const REGION_IDS: readonly string[] = vendor.regions.map((r) => r.id);

/** Contract cohorts (content/vendor.yaml, e.g. legacy, current, legacy-switch): a subscriber may state theirs. */
export const COHORT_IDS: readonly string[] = vendor.cohorts.map((c) => c.id);

/**
 * The cohorts the subscribe and manage forms offer: those a contract date decides (legacy, current). One staff
 * assigns (`assignedOnly`, e.g. legacy-switch) is not something a reader can tell from their contract.
 */
export const CONTRACT_COHORT_IDS: readonly string[] = vendor.cohorts.filter((c) => !c.assignedOnly).map((c) => c.id);

/** A confirmation link is good for 48 hours (docs/architecture.md "Subscriptions"). */
export const CONFIRM_TOKEN_TTL_MS = 48 * 60 * 60 * 1000;
/** Sign-ups never confirmed are deleted after 7 days (docs/architecture.md "Subscriptions"). */
export const UNCONFIRMED_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;
/** Request bodies above 16 KB are refused with 413; a sign-up is a few hundred bytes. */
export const MAX_BODY_BYTES = 16 * 1024;

export interface Limits {
  /** Sign-ups per IP per minute before 429 (never below 10: a person's normal use must pass; docs/architecture.md "Subscriptions"). */
  ipPerMinute: number;
  /** Confirmation emails per address per hour; past it the answer is still 202 and nothing is sent. */
  emailPerHour: number;
  /** Webhook registrations, test events and secret rotations per subscriber per hour before 429 (README "Webhooks"). */
  webhookPerHour: number;
}

function positiveInt(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

export function limits(env: Env): Limits {
  return {
    ipPerMinute: Math.max(10, positiveInt(env.RATE_LIMIT_IP_PER_MINUTE, 20)),
    emailPerHour: positiveInt(env.RATE_LIMIT_EMAIL_PER_HOUR, 3),
    webhookPerHour: positiveInt(env.RATE_LIMIT_WEBHOOK_PER_HOUR, 30),
  };
}

export function isLocale(value: string | undefined): value is Locale {
  return value !== undefined && (LOCALES as readonly string[]).includes(value);
}

/** Absolute URL on the public site (links in emails follow PUBLIC_BASE_URL, which `npm start` sets from PORT). */
export function publicUrl(env: Env, path: string, query?: Record<string, string>): string {
  const url = new URL(path, env.PUBLIC_BASE_URL.endsWith("/") ? env.PUBLIC_BASE_URL : `${env.PUBLIC_BASE_URL}/`);
  for (const [k, v] of Object.entries(query ?? {})) url.searchParams.set(k, v);
  return url.toString();
}
