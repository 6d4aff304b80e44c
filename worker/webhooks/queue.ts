import { sha256Hex } from "../../domain/canonical.ts";
import { subscriberLinks } from "../../emails/links.ts";
import { renderWebhookDisabled } from "../../emails/webhook-disabled.ts";
import { insertManageToken } from "../db/subscribers.ts";
import { endpointOwner } from "../db/webhook-deliveries.ts";
import { sendAndLog } from "../email/port.ts";
import { emailTransport } from "../email/transport.ts";
import { isLocale, vendor } from "../env.ts";
import { newToken } from "../http/security.ts";
import { deliverWebhook, WEBHOOK_LEASE_MS, type WebhookDeliveryDeps } from "./deliver.ts";
import { webhookTimeoutMs, webhookUrlOptions } from "./endpoints.ts";
import type { WebhookMessage } from "./plan.ts";

/** The webhook delivery queue (wrangler.toml): its own queue, so a slow receiver never holds back a notice email. */
export const WEBHOOK_QUEUE_NAME = "webhooks";

function isWebhookMessage(body: unknown): body is WebhookMessage {
  if (!body || typeof body !== "object") return false;
  const b = body as Record<string, unknown>;
  return Number.isInteger(b.publicationId) && typeof b.endpointId === "string";
}

/**
 * Emails the owner of an endpoint that was disabled, in their language, with a fresh manage token (the manage page
 * lists the endpoint and tests it back to active). One email per disabling: the key names the endpoint and the time.
 */
export async function emailEndpointDisabled(env: Env, endpointId: string, publications: number, now: Date) {
  const owner = await endpointOwner(env.DB, endpointId);
  if (!owner) return;
  const locale = isLocale(owner.locale) ? owner.locale : "da";
  const token = newToken();
  await insertManageToken(env.DB, owner.subscriberId, await sha256Hex(token), now.toISOString()).run();
  const links = subscriberLinks(env.PUBLIC_BASE_URL, locale, token);
  const email = renderWebhookDisabled({
    locale,
    vendorName: vendor.name,
    endpointUrl: owner.url,
    publications,
    links,
  });
  await sendAndLog(emailTransport(env), [{ to: owner.email, ...email }], "webhook endpoint disabled", {
    idempotencyKey: `webhook-disabled/${endpointId}/${owner.disabledAt ?? now.toISOString()}`,
  });
}

export function webhookDeliveryDeps(
  env: Env,
  options: { now?: () => Date; fetcher?: typeof fetch } = {},
): WebhookDeliveryDeps {
  const now = options.now ?? (() => new Date());
  return {
    db: env.DB,
    secretKey: env,
    now,
    allowLocalHttp: webhookUrlOptions(env).allowLocalHttp,
    timeoutMs: webhookTimeoutMs(env),
    leaseMs: WEBHOOK_LEASE_MS,
    ...(options.fetcher ? { fetcher: options.fetcher } : {}),
    endpointDisabled: (endpointId, publications) => emailEndpointDisabled(env, endpointId, publications, now()),
  };
}

/**
 * Consumer of WEBHOOK_QUEUE: each message is one delivery. The messages of a batch go to different endpoints, so they
 * are attempted at once (each waits at most the 10 s timeout); each is acked or retried on its own, with the delay
 * the ledger says (Retry-After or the back-off), so one slow or failing endpoint never holds back another.
 */
export async function handleWebhookQueue(
  batch: MessageBatch<unknown>,
  env: Env,
  options: { now?: () => Date; fetcher?: typeof fetch } = {},
): Promise<void> {
  const deps = webhookDeliveryDeps(env, options);
  await Promise.all(
    batch.messages.map(async (message) => {
      if (!isWebhookMessage(message.body)) {
        console.error("webhook queue: dropping a message that is not a delivery", message.id);
        message.ack();
        return;
      }
      try {
        const result = await deliverWebhook(deps, message.body);
        if (result.action === "ack") message.ack();
        else message.retry({ delaySeconds: result.delaySeconds });
      } catch (err) {
        // Storage failure mid-way: every step is repeatable; the lease (if taken) runs out before the next try.
        console.error("webhook queue: delivery failed, will retry", message.body, err);
        message.retry({ delaySeconds: Math.ceil(WEBHOOK_LEASE_MS / 1000) });
      }
    }),
  );
}
