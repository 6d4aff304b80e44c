import { base64url } from "../../domain/canonical.ts";
import type { Notice } from "../../domain/notice.ts";
import { ANNEX_C_CHANGED, endpointAudience, webhookEventFor } from "../../domain/webhook-event.ts";
import {
  isWebhookPlanned,
  openWebhookDeliveries,
  type PlannedWebhookDelivery,
  plannableEndpoints,
  recordWebhookPlan,
  type WebhookKey,
} from "../db/webhook-deliveries.ts";
import { vendor } from "../env.ts";

// The webhook plan of a publication (README "Webhooks"), made where the notice is planned (worker/notices/publish.ts)
// and, should a publish run stop before it, by the reconciler (worker/webhooks/recovery.ts). One ledger row per
// active endpoint the change concerns, with the event frozen in it and a random webhook-id: UNIQUE(publication,
// endpoint) makes a second plan insert nothing, so every endpoint has one event per publication, whoever planned it.

/** A queue message on WEBHOOK_QUEUE: one delivery. The ledger row holds the rest. */
export interface WebhookMessage {
  publicationId: number;
  endpointId: string;
}

/** Cloudflare Queues: at most 100 messages per sendBatch (and 256 KB; a message here is under 100 bytes). */
export const WEBHOOK_MESSAGES_PER_SEND_BATCH = 100;

export interface WebhookPlanDeps {
  db: D1Database;
  queue: Pick<Queue<WebhookMessage>, "sendBatch">;
  /** PUBLIC_BASE_URL: every link in the event is absolute. */
  baseUrl: string;
  now: Date;
}

/** Standard Webhooks ids: "msg_" + 128 random bits. Random, not derived: the id only has to be unique and stable. */
export function newMessageId(): string {
  return `msg_${base64url(crypto.getRandomValues(new Uint8Array(16)))}`;
}

/**
 * Plans the publication's webhooks unless they are planned already, then hands every open delivery of it to the
 * queue. Returns how many rows the plan holds and how many messages were queued.
 */
export async function planWebhooks(
  deps: WebhookPlanDeps,
  notice: Notice,
): Promise<{ planned: number | null; enqueued: number }> {
  let planned: number | null = null;
  if (!(await isWebhookPlanned(deps.db, notice.sequence))) {
    // Events depend only on the audience: built once per (regions, cohort), as the email fan-out renders.
    const events = new Map<string, string | undefined>();
    const deliveries: PlannedWebhookDelivery[] = [];
    for (const endpoint of await plannableEndpoints(deps.db)) {
      const audience = endpointAudience(endpoint, endpoint.subscriberRegions);
      const key = `${[...audience.regions].sort().join(",")}|${audience.cohort ?? ""}`;
      if (!events.has(key)) {
        const event = webhookEventFor({ notice, audience, baseUrl: deps.baseUrl, vendor });
        events.set(key, event && JSON.stringify(event));
      }
      const payload = events.get(key);
      if (!payload) continue;
      deliveries.push({
        endpointId: endpoint.id,
        messageId: newMessageId(),
        eventType: ANNEX_C_CHANGED,
        url: endpoint.url,
        payload,
      });
    }
    await recordWebhookPlan(deps.db, notice.sequence, deliveries, deps.now.toISOString());
    planned = deliveries.length;
  }
  return {
    planned,
    enqueued: await enqueueWebhooks(deps.queue, await openWebhookDeliveries(deps.db, notice.sequence)),
  };
}

/** Hands deliveries to the queue. A repeated message is harmless: the consumer's lease lets one attempt at a time. */
export async function enqueueWebhooks(
  queue: Pick<Queue<WebhookMessage>, "sendBatch">,
  keys: readonly WebhookKey[],
): Promise<number> {
  for (let i = 0; i < keys.length; i += WEBHOOK_MESSAGES_PER_SEND_BATCH) {
    const slice = keys.slice(i, i + WEBHOOK_MESSAGES_PER_SEND_BATCH);
    await queue.sendBatch(
      slice.map((k) => ({ body: { publicationId: k.publicationId, endpointId: k.endpointId }, contentType: "json" })),
    );
  }
  return keys.length;
}
