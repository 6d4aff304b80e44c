/**
 * Webhook endpoints, registration side (README "Webhooks"), free of HTTP: a subscriber registers, lists, tests,
 * rotates and removes their endpoints with their manage token. All SQL is in worker/db/webhook-endpoints.ts.
 *
 * - The URL passes the SSRF guard (domain/webhook-url.ts) at registration and again before every send, test included.
 * - The signing secret is shown once, in the answer that creates it, and stored only sealed (worker/webhooks/secret.ts).
 * - An endpoint is `pending` until it answered a signed `webhook.test` event with a 2xx within 10 s; registration
 *   sends that test once by itself, after the answer (the caller's `defer`), and POST …/test sends it again.
 * - A rotated secret keeps signing beside the new one for 24 hours, so a receiver can switch without missing a call.
 * - Another subscriber's endpoint id is answered exactly like an unknown one (404): ids cannot be enumerated.
 */
import { base64url } from "../../domain/canonical.ts";
import { checkWebhookUrl, type WebhookUrlOptions } from "../../domain/webhook-url.ts";
import { countHit } from "../db/rate-limits.ts";
import type { Subscriber } from "../db/subscribers.ts";
import {
  type DeliverySummary,
  deleteEndpoint,
  endpointsOfSubscriber,
  findEndpoint,
  insertEndpoint,
  ledgerOfSubscriber,
  MAX_ENDPOINTS_PER_SUBSCRIBER,
  recentDeliveries,
  recordTest,
  rotateEndpointSecret,
  type WebhookEndpoint,
} from "../db/webhook-endpoints.ts";
import { limits } from "../env.ts";
import { ApiError } from "../http/errors.ts";
import { newWebhookSecret, openSecret, sealSecret } from "./secret.ts";
import { sendSigned, WEBHOOK_TIMEOUT_MS } from "./send.ts";

export interface WebhookDeps {
  env: Env;
  now: Date;
  /** Runs work after the answer has gone (ExecutionContext.waitUntil). */
  defer: (work: Promise<unknown>) => void;
  /** Tests may stand in for the network; production uses the platform fetch. */
  fetcher?: typeof fetch;
}

/** After a rotation the old secret keeps signing this long (README "Webhooks"). */
export const PREVIOUS_SECRET_VALID_MS = 24 * 60 * 60 * 1000;
/** The rule a registration past MAX_ENDPOINTS_PER_SUBSCRIBER breaks, named in the 409's `errors`. */
export const MAX_ENDPOINTS_RULE = "max-endpoints";
/** The event type of the activation test (README "Webhooks"). */
export const TEST_EVENT_TYPE = "webhook.test";

/** The guard's options from the bindings: WEBHOOK_ALLOW_LOCAL_HTTP=1 only in development and tests. */
export function webhookUrlOptions(env: Pick<Env, "WEBHOOK_ALLOW_LOCAL_HTTP">): WebhookUrlOptions {
  return { allowLocalHttp: env.WEBHOOK_ALLOW_LOCAL_HTTP === "1" };
}

/** WEBHOOK_TIMEOUT_MS, never above the 10 s an endpoint is promised (tests shorten it). */
export function webhookTimeoutMs(env: Pick<Env, "WEBHOOK_TIMEOUT_MS">): number {
  const n = Number(env.WEBHOOK_TIMEOUT_MS);
  return Number.isInteger(n) && n > 0 ? Math.min(n, WEBHOOK_TIMEOUT_MS) : WEBHOOK_TIMEOUT_MS;
}

/** The normalised URL, or a 422 that names the rule the URL broke (`errors[0].rule`) and says why. */
export function guardedUrl(env: Env, raw: string): string {
  const check = checkWebhookUrl(raw, webhookUrlOptions(env));
  if (check.ok) return check.url.href;
  throw new ApiError("invalid_input", `url: ${check.detail}`, {
    issues: [{ path: "url", rule: check.rule, message: check.detail }],
  });
}

/** Every secret that signs right now, newest first: the current one, and the previous one within its 24 hours. */
export async function signingSecrets(env: Env, endpoint: WebhookEndpoint, now: Date): Promise<string[]> {
  const secrets = [await openSecret(env, endpoint.id, endpoint.secretSealed)];
  if (
    endpoint.previousSecretSealed &&
    endpoint.previousSecretUntil &&
    endpoint.previousSecretUntil > now.toISOString()
  ) {
    secrets.push(await openSecret(env, endpoint.id, endpoint.previousSecretSealed));
  }
  return secrets;
}

function randomId(prefix: string): string {
  return `${prefix}${base64url(crypto.getRandomValues(new Uint8Array(16)))}`;
}

/** Registrations, tests and rotations per subscriber an hour: past the limit, 429 with Retry-After. */
async function checkWebhookLimit(deps: WebhookDeps, sub: Subscriber): Promise<void> {
  const hit = await countHit(deps.env.DB, "webhook", sub.id, 60 * 60_000, deps.now.getTime());
  if (hit.count > limits(deps.env).webhookPerHour) {
    const retryAfter = Math.max(1, Math.ceil((hit.resetAtMs - deps.now.getTime()) / 1000));
    throw new ApiError("rate_limited", `Too many webhook changes and tests this hour; try again in ${retryAfter} s.`, {
      headers: { "Retry-After": String(retryAfter) },
    });
  }
}

function notFound(): ApiError {
  return new ApiError("not_found", "You have no webhook endpoint with this id.");
}

/** What the subscriber sees of an endpoint: never a secret, sealed or not. */
export function endpointView(endpoint: WebhookEndpoint, deliveries: DeliverySummary[], now: Date) {
  const rotating = endpoint.previousSecretUntil !== null && endpoint.previousSecretUntil > now.toISOString();
  return {
    id: endpoint.id,
    url: endpoint.url,
    /** null = the subscription's regions. */
    regions: endpoint.regions,
    /** null = every cohort. */
    cohort: endpoint.cohort,
    description: endpoint.description,
    status: endpoint.status,
    createdAt: endpoint.createdAt,
    activatedAt: endpoint.activatedAt,
    lastTest:
      endpoint.testAt === null
        ? null
        : { at: endpoint.testAt, httpStatus: endpoint.testStatus, detail: endpoint.testDetail },
    /** Until then the secret before the last rotation signs too. */
    previousSecretValidUntil: rotating ? endpoint.previousSecretUntil : null,
    disabledAt: endpoint.disabledAt,
    disabledReason: endpoint.disabledReason,
    deliveries: deliveries.filter((d) => d.endpointId === endpoint.id).map(({ endpointId: _id, ...d }) => d),
  };
}

export type EndpointView = ReturnType<typeof endpointView>;

export interface Registration {
  url: string;
  regions?: string[] | undefined;
  cohort?: string | null | undefined;
  description?: string | undefined;
}

/**
 * Deliveries go only to endpoints of confirmed subscriptions (worker/db/webhook-deliveries.ts); an endpoint registered
 * for an unsubscribed or suppressed subscription could never receive anything.
 */
function requireActiveSubscription(sub: Subscriber): void {
  if (sub.status === "confirmed") return;
  const detail = "Your subscription is not active, so a webhook would never be called; subscribe again first.";
  throw new ApiError("conflict", detail, {
    issues: [{ path: "subscription", rule: "subscription-inactive", message: detail }],
  });
}

/**
 * Registers a pending endpoint and, after the answer, sends it the test event once. The secret is in the result and
 * nowhere else: D1 holds it sealed under WEBHOOK_SECRET_KEY, bound to the endpoint id.
 */
export async function registerEndpoint(
  deps: WebhookDeps,
  sub: Subscriber,
  registration: Registration,
): Promise<{ endpoint: EndpointView; secret: string }> {
  requireActiveSubscription(sub);
  await checkWebhookLimit(deps, sub);
  const url = guardedUrl(deps.env, registration.url);
  const id = randomId("ep_");
  const secret = newWebhookSecret();
  const inserted = await insertEndpoint(deps.env.DB, {
    id,
    subscriberId: sub.id,
    url,
    regions: registration.regions ?? null,
    cohort: registration.cohort ?? null,
    description: registration.description ?? null,
    secretSealed: await sealSecret(deps.env, id, secret),
    now: deps.now.toISOString(),
  });
  if (!inserted) {
    const detail = `You already have ${MAX_ENDPOINTS_PER_SUBSCRIBER} webhook endpoints, the most one subscription may have; remove one first.`;
    throw new ApiError("conflict", detail, { issues: [{ path: "url", rule: MAX_ENDPOINTS_RULE, message: detail }] });
  }
  const endpoint = await findEndpoint(deps.env.DB, sub.id, id);
  if (!endpoint) throw notFound();
  deps.defer(sendTest(deps, endpoint));
  return { endpoint: endpointView(endpoint, [], deps.now), secret };
}

/** The subscriber's endpoints with their last test and their newest deliveries. */
export async function listEndpoints(deps: WebhookDeps, sub: Subscriber): Promise<EndpointView[]> {
  const [endpoints, deliveries] = await Promise.all([
    endpointsOfSubscriber(deps.env.DB, sub.id),
    recentDeliveries(deps.env.DB, sub.id),
  ]);
  return endpoints.map((e) => endpointView(e, deliveries, deps.now));
}

export async function removeEndpoint(deps: WebhookDeps, sub: Subscriber, id: string): Promise<void> {
  if (!(await deleteEndpoint(deps.env.DB, sub.id, id))) throw notFound();
}

/** A new secret; the one it replaces keeps signing beside it for 24 hours (one rotation back only). */
export async function rotateSecret(
  deps: WebhookDeps,
  sub: Subscriber,
  id: string,
): Promise<{ endpoint: EndpointView; secret: string }> {
  await checkWebhookLimit(deps, sub);
  const endpoint = await findEndpoint(deps.env.DB, sub.id, id);
  if (!endpoint) throw notFound();
  const secret = newWebhookSecret();
  const rotated = await rotateEndpointSecret(deps.env.DB, sub.id, id, {
    secretSealed: await sealSecret(deps.env, id, secret),
    previousSecretSealed: endpoint.secretSealed,
    previousUntil: new Date(deps.now.getTime() + PREVIOUS_SECRET_VALID_MS).toISOString(),
    now: deps.now.toISOString(),
  });
  if (!rotated) throw new ApiError("conflict", "The secret was changed at the same moment; reload and try again.");
  const updated = await findEndpoint(deps.env.DB, sub.id, id);
  if (!updated) throw notFound();
  return { endpoint: endpointView(updated, [], deps.now), secret };
}

/** Sends the test event now and answers with the endpoint as it stands after it. */
export async function testEndpoint(deps: WebhookDeps, sub: Subscriber, id: string): Promise<EndpointView> {
  await checkWebhookLimit(deps, sub);
  const endpoint = await findEndpoint(deps.env.DB, sub.id, id);
  if (!endpoint) throw notFound();
  await sendTest(deps, endpoint);
  const updated = await findEndpoint(deps.env.DB, sub.id, id);
  if (!updated) throw notFound();
  return endpointView(updated, [], deps.now);
}

/** The body of a test event, in Standard Webhooks' envelope ({type, timestamp, data}). */
export function testEventPayload(endpoint: Pick<WebhookEndpoint, "id" | "url">, now: Date): string {
  return JSON.stringify({
    type: TEST_EVENT_TYPE,
    timestamp: now.toISOString(),
    data: {
      endpointId: endpoint.id,
      url: endpoint.url,
      detail: "A test event: answer 2xx within 10 seconds and this endpoint becomes active.",
    },
  });
}

/**
 * One signed test event and its record: the endpoint's test columns and a webhook_attempts row. A URL the guard now
 * refuses is not called at all; the refusal is recorded as a final attempt without an answer.
 */
async function sendTest(deps: WebhookDeps, endpoint: WebhookEndpoint): Promise<void> {
  const { env, now } = deps;
  const messageId = randomId("msg_");
  const check = checkWebhookUrl(endpoint.url, webhookUrlOptions(env));
  const attempt = check.ok
    ? await sendSigned({
        url: check.url.href,
        secrets: await signingSecrets(env, endpoint, now),
        messageId,
        payload: testEventPayload(endpoint, now),
        now,
        timeoutMs: webhookTimeoutMs(env),
        ...(deps.fetcher ? { fetcher: deps.fetcher } : {}),
      })
    : {
        outcome: "final" as const,
        httpStatus: null,
        latencyMs: 0,
        responseExcerpt: null,
        error: `refused by the URL guard (${check.rule}): ${check.detail}`,
      };
  const passed = attempt.outcome === "delivered";
  const detail =
    attempt.error ?? (passed ? `answered ${attempt.httpStatus}` : `answered ${attempt.httpStatus}, not 2xx`);
  await recordTest(
    env.DB,
    endpoint.id,
    { at: now.toISOString(), status: attempt.httpStatus, detail, passed },
    {
      messageId,
      endpointId: endpoint.id,
      publicationId: null,
      eventType: TEST_EVENT_TYPE,
      attemptedAt: now.toISOString(),
      httpStatus: attempt.httpStatus,
      latencyMs: attempt.latencyMs,
      outcome: attempt.outcome,
      responseExcerpt: attempt.responseExcerpt,
      error: attempt.error,
    },
  );
}

/** GDPR art. 15 access: the endpoints (no secrets) with every delivery and attempt of theirs. */
export async function exportEndpoints(env: Env, subscriberId: string, now: Date) {
  const [endpoints, ledger] = await Promise.all([
    endpointsOfSubscriber(env.DB, subscriberId),
    ledgerOfSubscriber(env.DB, subscriberId),
  ]);
  return {
    endpoints: endpoints.map((e) => endpointView(e, ledger.deliveries, now)),
    attempts: ledger.attempts,
  };
}
