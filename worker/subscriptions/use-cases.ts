/**
 * Subscription use cases, free of HTTP: sign up, confirm, unsubscribe, read/change/erase. Routes
 * parse and answer; this module decides and writes (all SQL is in worker/db/), and hands emails to the
 * transport through the caller's `defer` (the request's waitUntil) so an answer never waits on a send.
 */

import { sha256Hex } from "../../domain/canonical.ts";
import { NOTICE_TOPICS, type NoticeTopic } from "../../domain/notice.ts";
import type { Locale } from "../../domain/schema/common.ts";
import { subscriberLinks } from "../../emails/links.ts";
import { confirmationEmail, welcomeEmail } from "../../emails/subscription.ts";
import { deliveriesOfRecipient } from "../db/deliveries.ts";
import { objectionsOfRecipient } from "../db/objections.ts";
import { countHit } from "../db/rate-limits.ts";
import {
  confirmSubscriber,
  eraseSubscriber,
  findSubscriberByEmail,
  type Preferences,
  recordSignup,
  resubscribe,
  type Subscriber,
  type SubscriberStatus,
  unsubscribe,
  updatePreferences,
} from "../db/subscribers.ts";
import { claimConfirmToken, findToken, listTokens, type TokenRecord } from "../db/tokens.ts";
import { deleteEndpointsOfSubscriber } from "../db/webhook-endpoints.ts";
import { type EmailTransport, sendAndLog } from "../email/port.ts";
import { emailTransport } from "../email/transport.ts";
import { CONFIRM_TOKEN_TTL_MS, DEFAULT_LOCALE, limits, REGION_IDS, vendor } from "../env.ts";
import { ApiError } from "../http/errors.ts";
import { looksLikeToken, newToken } from "../http/security.ts";
import { noticeManageToken } from "../notices/engine/tokens.ts";
import { exportEndpoints } from "../webhooks/endpoints.ts";

export interface Deps {
  env: Env;
  now: Date;
  /** Runs work after the answer has gone (ExecutionContext.waitUntil). */
  defer: (work: Promise<unknown>) => void;
  transport?: EmailTransport;
}

/** The one answer every well-formed sign-up gets, known address or not (no enumeration). */
export const ACCEPTED_BODY = {
  status: "accepted",
  detail: "If this address can receive email, a confirmation link is on its way. It works for 48 hours.",
} as const;

export interface SignupRequest {
  email: string;
  locale?: Locale | undefined;
  topics?: NoticeTopic[] | undefined;
  regions?: string[] | undefined;
  /** The contract cohort stated; null or absent = "I don't know". */
  cohort?: string | null | undefined;
}

function transportOf(deps: Deps): EmailTransport {
  return deps.transport ?? emailTransport(deps.env);
}

/** Per-IP sign-up limit: past it, 429 with Retry-After (seconds to the end of the minute window). */
export async function checkIpLimit(deps: Deps, ip: string): Promise<void> {
  const limit = limits(deps.env).ipPerMinute;
  const hit = await countHit(deps.env.DB, "ip", ip, 60_000, deps.now.getTime());
  if (hit.count > limit) {
    const retryAfter = Math.max(1, Math.ceil((hit.resetAtMs - deps.now.getTime()) / 1000));
    throw new ApiError("rate_limited", `Too many sign-ups from this address; try again in ${retryAfter} seconds.`, {
      headers: { "Retry-After": String(retryAfter) },
    });
  }
}

/**
 * Records the request and, unless the per-address limit is reached or the address is suppressed,
 * emails a confirmation link. The caller answers 202 with ACCEPTED_BODY whatever happens here.
 */
export async function signup(deps: Deps, request: SignupRequest): Promise<void> {
  const { env, now } = deps;
  const preferences: Preferences = {
    locale: request.locale ?? DEFAULT_LOCALE,
    topics: request.topics ?? [...NOTICE_TOPICS],
    regions: request.regions ?? [...REGION_IDS],
    cohort: request.cohort ?? null,
  };
  const token = newToken();
  const [tokenHash, emailHash] = await Promise.all([sha256Hex(token), sha256Hex(request.email)]);
  const result = await recordSignup(env.DB, {
    subscriberId: crypto.randomUUID(),
    email: request.email,
    emailHash,
    preferences,
    confirmTokenHash: tokenHash,
    now: now.toISOString(),
    nowMs: now.getTime(),
    expiresAt: new Date(now.getTime() + CONFIRM_TOKEN_TTL_MS).toISOString(),
    emailWindowMs: 60 * 60_000,
  });
  // Past the per-address limit nothing more is sent, and the answer stays the same 202.
  if (result.emailCount > limits(env).emailPerHour) return;
  // A bounced or complained-about address gets no more mail from us.
  if (result.status === "suppressed") return;
  const email = confirmationEmail({
    locale: preferences.locale,
    vendor,
    links: subscriberLinks(env.PUBLIC_BASE_URL, preferences.locale, token),
  });
  deps.defer(sendAndLog(transportOf(deps), [{ to: request.email, ...email }], "confirmation"));
}

async function tokenRecord(env: Env, token: string): Promise<TokenRecord | null> {
  if (!looksLikeToken(token)) return null;
  return findToken(env.DB, await sha256Hex(token));
}

export type ConfirmResult = { status: SubscriberStatus; locale: Locale; alreadyConfirmed: boolean };

/**
 * Confirms with a token from the confirmation email. Confirming twice is a success (docs/architecture.md "Subscriptions");
 * a link older than 48 hours is refused with 410; the welcome email with the manage link goes once.
 */
export async function confirm(deps: Deps, token: string): Promise<ConfirmResult> {
  const { env, now } = deps;
  const record = await tokenRecord(env, token);
  if (record?.kind !== "confirm") {
    throw new ApiError(
      "invalid_token",
      "This confirmation link is not valid. It may be incomplete, or the sign-up was removed.",
    );
  }
  const sub = record.subscriber;
  if (record.usedAt) return { status: sub.status, locale: sub.locale, alreadyConfirmed: true };
  if (record.expiresAt && record.expiresAt < now.toISOString()) {
    throw new ApiError(
      "token_expired",
      "This confirmation link has expired (links work for 48 hours). Sign up again to get a new one.",
    );
  }
  const tokenHash = await sha256Hex(token);
  const claimed = await claimConfirmToken(env.DB, tokenHash, now.toISOString());
  if (!claimed) return { status: sub.status, locale: sub.locale, alreadyConfirmed: true };

  const preferences = record.request ?? {
    locale: sub.locale,
    topics: sub.topics,
    regions: sub.regions,
    cohort: sub.cohort ?? null,
  };
  const manageToken = newToken();
  const noticeToken = await noticeManageToken(env.NOTICE_TOKEN_KEY, sub.id);
  await confirmSubscriber(
    env.DB,
    sub.id,
    preferences,
    await sha256Hex(manageToken),
    noticeToken.hash,
    now.toISOString(),
  );
  if (sub.status !== "suppressed") {
    const email = welcomeEmail({
      locale: preferences.locale,
      vendor,
      links: subscriberLinks(env.PUBLIC_BASE_URL, preferences.locale, manageToken),
      topics: preferences.topics,
      regions: preferences.regions,
    });
    deps.defer(sendAndLog(transportOf(deps), [{ to: sub.email, ...email }], "welcome"));
  }
  return {
    status: sub.status === "suppressed" ? "suppressed" : "confirmed",
    locale: preferences.locale,
    alreadyConfirmed: false,
  };
}

/**
 * What the confirm page should show for a link, read-only (the page never confirms by itself): the
 * button, or the confirmed page for a link already used; an expired link is refused with 410. An
 * unknown link still gets the button, and the POST behind it explains (the page stays one page type).
 */
export async function confirmLinkState(env: Env, token: string, now: Date): Promise<"button" | "used"> {
  const record = await tokenRecord(env, token);
  if (record?.kind !== "confirm") return "button";
  if (record.usedAt) return "used";
  if (record.expiresAt && record.expiresAt < now.toISOString()) {
    throw new ApiError(
      "token_expired",
      "This confirmation link has expired (links work for 48 hours). Sign up again to get a new one.",
    );
  }
  return "button";
}

/**
 * RFC 8058 one-click unsubscribe with the token from an email (a manage token, or the confirm token
 * of a sign-up not yet confirmed). Repeating it is harmless.
 */
export async function unsubscribeWithToken(deps: Deps, token: string): Promise<Subscriber> {
  const record = await tokenRecord(deps.env, token);
  if (!record) {
    throw new ApiError(
      "invalid_token",
      "This unsubscribe link is not valid. It may be incomplete, or the subscription was erased.",
    );
  }
  await unsubscribe(deps.env.DB, record.subscriber.id, deps.now.toISOString());
  return (await findSubscriberByEmail(deps.env.DB, record.subscriber.email)) ?? record.subscriber;
}

/** Finds the subscriber a manage token belongs to; 401 when there is none. */
export async function authenticate(env: Env, token: string | undefined): Promise<Subscriber> {
  if (!token) {
    throw new ApiError(
      "unauthorized",
      "Send the manage token from any of our emails as `Authorization: Bearer <token>`.",
      {
        headers: { "WWW-Authenticate": 'Bearer realm="subscription"' },
      },
    );
  }
  const record = await tokenRecord(env, token);
  if (record?.kind !== "manage") {
    throw new ApiError(
      "unauthorized",
      "This manage token is not valid. Use the link in the most recent email from us.",
      {
        headers: { "WWW-Authenticate": 'Bearer realm="subscription", error="invalid_token"' },
      },
    );
  }
  return record.subscriber;
}

/** What the subscriber sees and can change. */
export function view(sub: Subscriber) {
  return {
    email: sub.email,
    status: sub.status,
    locale: sub.locale,
    topics: sub.topics,
    regions: sub.regions,
    /** null = "I don't know": notices carry every cohort's rows. */
    cohort: sub.cohort ?? null,
    createdAt: sub.createdAt,
    updatedAt: sub.updatedAt,
    confirmedAt: sub.confirmedAt,
    unsubscribedAt: sub.unsubscribedAt,
  };
}

/**
 * GDPR art. 15 access: everything stored about the subscriber — the subscription, its tokens (without their hashes,
 * which only match the links in the emails), every notice delivered to it, every objection it made, and its webhook
 * endpoints (without their secrets) with every delivery and attempt made to them.
 */
export async function exportData(deps: Deps, sub: Subscriber) {
  const [tokens, deliveries, objections, webhooks] = await Promise.all([
    listTokens(deps.env.DB, sub.id),
    deliveriesOfRecipient(deps.env.DB, sub.id),
    objectionsOfRecipient(deps.env.DB, sub.id),
    exportEndpoints(deps.env, sub.id, deps.now),
  ]);
  return {
    exportedAt: deps.now.toISOString(),
    subscription: { ...view(sub), suppressedAt: sub.suppressedAt, suppressedReason: sub.suppressedReason },
    tokens,
    deliveries,
    objections: objections.map(({ subscriberId: _id, ...o }) => o),
    webhooks,
    notes: [
      "Tokens are stored only as SHA-256 hashes; the links themselves exist only in your emails.",
      "Sign-up rate-limit counters are keyed by a hash of your address and expire within an hour.",
      "Webhook signing secrets are stored only encrypted and are never exported; rotate a secret to get a new one.",
    ],
  };
}

export interface PreferencesPatch {
  locale?: Locale | undefined;
  topics?: NoticeTopic[] | undefined;
  regions?: string[] | undefined;
  /** A cohort id, or null for "I don't know"; undefined leaves it as it is. */
  cohort?: string | null | undefined;
  subscribed?: boolean | undefined;
}

/** Changes preferences and/or unsubscribes or re-subscribes. A suppressed address cannot re-subscribe itself. */
export async function updateSubscription(deps: Deps, sub: Subscriber, patch: PreferencesPatch): Promise<Subscriber> {
  const { env } = deps;
  const now = deps.now.toISOString();
  if (patch.subscribed === true && sub.status === "suppressed") {
    throw new ApiError(
      "conflict",
      "Emails to this address bounced or were reported as unwanted, so it cannot be re-subscribed here.",
    );
  }
  const prefs: Partial<Preferences> = {};
  if (patch.locale) prefs.locale = patch.locale;
  if (patch.topics) prefs.topics = patch.topics;
  if (patch.regions) prefs.regions = patch.regions;
  if (patch.cohort !== undefined) prefs.cohort = patch.cohort;
  if (Object.keys(prefs).length > 0) await updatePreferences(env.DB, sub.id, prefs, now);
  if (patch.subscribed === false) await unsubscribe(env.DB, sub.id, now);
  if (patch.subscribed === true) await resubscribe(env.DB, sub.id, now);
  return (await findSubscriberByEmail(env.DB, sub.email)) ?? sub;
}

/**
 * GDPR art. 17 erasure: the row, every token and every webhook endpoint go; every manage link stops working. The
 * endpoints go first, so an erasure cut short leaves a subscription that can be erased again, never endpoints whose
 * owner is gone.
 */
export async function erase(deps: Deps, sub: Subscriber): Promise<void> {
  await deleteEndpointsOfSubscriber(deps.env.DB, sub.id);
  await eraseSubscriber(deps.env.DB, sub.id, await sha256Hex(sub.email));
}
