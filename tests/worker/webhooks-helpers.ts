/**
 * Helpers for the webhook delivery tests: subscribers and active endpoints written straight into D1 (registration is
 * its own API), publications with their webhook plan, and a hand-made driver of the webhook queue that re-delivers
 * what the consumer retries once the ledger clock has moved past the delay it asked for.
 */
import { env } from "cloudflare:workers";
import { type AnnexCDocument, annexCDocument } from "../../domain/annex.ts";
import { publish } from "../../worker/notices/publish.ts";
import type { WebhookMessage } from "../../worker/webhooks/plan.ts";
import { handleWebhookQueue } from "../../worker/webhooks/queue.ts";
import { newWebhookSecret, sealSecret } from "../../worker/webhooks/secret.ts";
import { capturingQueue, NEWCOMER, NEWCOMER_CHANGE, resetNoticeTables, shippedContent } from "./notices-helpers.ts";

export async function resetWebhookTables(): Promise<void> {
  await resetNoticeTables();
  await env.DB.batch([
    env.DB.prepare("DELETE FROM webhook_endpoints"),
    env.DB.prepare("DELETE FROM subscription_tokens"),
    env.DB.prepare("DELETE FROM subscribers"),
    env.DB.prepare("DELETE FROM outbox"),
  ]);
}

export async function addSubscriber(
  id: string,
  options: { regions?: string[]; locale?: "da" | "en"; topics?: string[] } = {},
): Promise<void> {
  const now = new Date().toISOString();
  await env.DB.prepare(
    "INSERT INTO subscribers (id, email, locale, topics, regions, status, created_at, updated_at, confirmed_at) " +
      "VALUES (?1, ?2, ?3, ?4, ?5, 'confirmed', ?6, ?6, ?6)",
  )
    .bind(
      id,
      `${id}@customer.example`,
      options.locale ?? "en",
      JSON.stringify(options.topics ?? ["dpa"]),
      JSON.stringify(options.regions ?? []),
      now,
    )
    .run();
}

/** An endpoint as registration leaves it once its test event was answered; returns its plain secret. */
export async function addEndpoint(
  id: string,
  subscriberId: string,
  url: string,
  options: { regions?: string[] | null; cohort?: string | null; status?: "pending" | "active" | "disabled" } = {},
): Promise<string> {
  const secret = newWebhookSecret();
  const now = new Date().toISOString();
  await env.DB.prepare(
    "INSERT INTO webhook_endpoints (id, subscriber_id, url, regions, cohort, secret_sealed, status, activated_at, " +
      "created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?8)",
  )
    .bind(
      id,
      subscriberId,
      url,
      options.regions === undefined || options.regions === null ? null : JSON.stringify(options.regions),
      options.cohort ?? null,
      await sealSecret(env, id, secret),
      options.status ?? "active",
      now,
    )
    .run();
  return secret;
}

/** The shipped content with `n` new sub-processors (each a change of its own): a new fingerprint per `n`. */
export async function documentWith(n: number): Promise<AnnexCDocument> {
  const content = shippedContent();
  const added = Array.from({ length: n }, (_, i) => ({
    sp: { ...NEWCOMER, id: `${NEWCOMER.id}-${i}` },
    change: { ...NEWCOMER_CHANGE, id: `${NEWCOMER_CHANGE.id}-${i}`, subprocessors: [`${NEWCOMER.id}-${i}`] },
  }));
  return annexCDocument({
    ...content,
    subprocessors: [...content.subprocessors, ...added.map((a) => a.sp)],
    changes: [...content.changes, ...added.map((a) => a.change)],
  });
}

/** Publishes `doc` (after a baseline when there is none) and returns the webhook messages the run queued. */
export async function publishWithWebhooks(
  doc: AnnexCDocument,
  now: Date,
  options: { webhooks?: boolean } = {},
): Promise<{ sequence: number; messages: WebhookMessage[] }> {
  const notices = capturingQueue();
  const sent: WebhookMessage[] = [];
  const queue = {
    sendBatch: async (messages: Iterable<MessageSendRequest<WebhookMessage>>) => {
      for (const m of messages) sent.push(structuredClone(m.body));
    },
  } as unknown as Queue<WebhookMessage>;
  const last = await env.DB.prepare("SELECT COUNT(*) AS n FROM publications").first<{ n: number }>();
  if (!last?.n) await publish({ db: env.DB, queue: notices.queue, document: async () => documentWith(0), now });
  const result = await publish({
    db: env.DB,
    queue: notices.queue,
    ...(options.webhooks === false ? {} : { webhooks: { queue, baseUrl: env.PUBLIC_BASE_URL } }),
    document: async () => doc,
    now,
  });
  return { sequence: result.sequence, messages: sent };
}

export interface QueuedWebhook {
  id: string;
  body: WebhookMessage;
  attempts: number;
}

export type WebhookOutcome = { kind: "ack" } | { kind: "retry"; delaySeconds: number } | { kind: "none" };

/** Runs the real consumer on a hand-made batch of the `webhooks` queue and reports what it did with each message. */
export async function deliverWebhooks(
  messages: readonly QueuedWebhook[],
  now: () => Date,
  bindings: Partial<Env> = {},
  fetcher?: typeof fetch,
): Promise<Map<string, WebhookOutcome>> {
  const outcomes = new Map<string, WebhookOutcome>(messages.map((m) => [m.id, { kind: "none" }]));
  const batch = {
    queue: "webhooks",
    messages: messages.map((m) => ({
      id: m.id,
      timestamp: new Date(),
      body: structuredClone(m.body),
      attempts: m.attempts,
      ack: () => outcomes.set(m.id, { kind: "ack" }),
      retry: (o?: { delaySeconds?: number }) =>
        outcomes.set(m.id, { kind: "retry", delaySeconds: o?.delaySeconds ?? 0 }),
    })),
    ackAll: () => {},
    retryAll: () => {},
  } as unknown as MessageBatch<unknown>;
  await handleWebhookQueue(batch, { ...env, ...bindings } as Env, { now, ...(fetcher ? { fetcher } : {}) });
  return outcomes;
}

/**
 * Delivers until every message is acked. The ledger clock (`clock.ms`) jumps to the latest delay asked for, so every
 * retried message is due when it comes back; nothing sleeps. Returns the rounds and every delay the consumer asked.
 */
export async function drainWebhooks(
  bodies: readonly WebhookMessage[],
  clock: { ms: number },
  options: { bindings?: Partial<Env>; maxRounds?: number; copies?: boolean } = {},
): Promise<{ rounds: number; delays: number[] }> {
  let pending: QueuedWebhook[] = bodies.map((body, i) => ({ id: `w${i}`, body, attempts: 1 }));
  // At-least-once: the first round also carries a copy of every message.
  if (options.copies) pending = [...pending, ...pending.map((m) => ({ ...m, id: `${m.id}-copy` }))];
  const delays: number[] = [];
  let rounds = 0;
  while (pending.length > 0) {
    if (++rounds > (options.maxRounds ?? 60)) throw new Error(`webhook queue not drained after ${rounds - 1} rounds`);
    const outcomes = await deliverWebhooks(pending, () => new Date(clock.ms), options.bindings);
    let wait = 0;
    const next: QueuedWebhook[] = [];
    for (const m of pending) {
      const o = outcomes.get(m.id);
      if (o?.kind === "ack") continue;
      const delay = o?.kind === "retry" ? o.delaySeconds : 0;
      delays.push(delay);
      wait = Math.max(wait, delay);
      next.push({ ...m, attempts: m.attempts + 1 });
    }
    clock.ms += wait * 1000;
    pending = next;
  }
  return { rounds, delays };
}

export interface LedgerRow {
  endpoint_id: string;
  message_id: string;
  status: string;
  attempts: number;
  detail: string | null;
  payload: string;
  first_attempt_at: string | null;
}

export async function ledger(publicationId: number): Promise<Map<string, LedgerRow>> {
  const { results } = await env.DB.prepare(
    "SELECT endpoint_id, message_id, status, attempts, detail, payload, first_attempt_at FROM webhook_deliveries " +
      "WHERE publication_id = ?1",
  )
    .bind(publicationId)
    .all<LedgerRow>();
  return new Map(results.map((r) => [r.endpoint_id, r]));
}

export async function attemptsOf(messageId: string) {
  const { results } = await env.DB.prepare(
    "SELECT attempted_at, http_status, outcome, error, response_excerpt, latency_ms FROM webhook_attempts " +
      "WHERE message_id = ?1 ORDER BY id",
  )
    .bind(messageId)
    .all<{
      attempted_at: string;
      http_status: number | null;
      outcome: string;
      error: string | null;
      response_excerpt: string | null;
      latency_ms: number;
    }>();
  return results;
}
