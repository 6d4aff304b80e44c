import type { Notice } from "../../domain/notice.ts";
import { vendor } from "../config.ts";
import { d1DeliveryStore, d1RateLimiter } from "../db-notices.ts";
import { emailTransport } from "../email/transport.ts";
import { backoffSeconds, type FanoutDeps, type FanoutMessage, processMessage } from "./fanout.ts";
import { loadNotice } from "./publish.ts";
import { transportSender } from "./rate.ts";
import { noticeManageToken } from "./tokens.ts";

/**
 * Attempts of one message before its open deliveries are given up as dead and listed in dead_letters. Kept equal to
 * the queue's max_retries (wrangler.toml: 10), so the consumer decides, not the platform's dead letter queue.
 */
export const MAX_ATTEMPTS = 10;

/** Resend plan limit when RESEND_MAX_RPS is unset or unreadable: 2 requests per second. */
export const DEFAULT_MAX_RPS = 2;

export function maxRps(env: Pick<Env, "RESEND_MAX_RPS">): number {
  const n = Number(env.RESEND_MAX_RPS);
  return Number.isFinite(n) && n > 0 ? n : DEFAULT_MAX_RPS;
}

function isFanoutMessage(body: unknown): body is FanoutMessage {
  if (!body || typeof body !== "object") return false;
  const b = body as Record<string, unknown>;
  return (
    Number.isInteger(b.publicationId) &&
    Number.isInteger(b.chunk) &&
    Array.isArray(b.subscriberIds) &&
    b.subscriberIds.every((id) => typeof id === "string")
  );
}

export function fanoutDeps(env: Env, options: { now?: () => Date } = {}): FanoutDeps {
  const notices = new Map<number, Promise<Notice>>();
  return {
    store: d1DeliveryStore(env.DB),
    sender: transportSender(emailTransport(env)),
    limiter: d1RateLimiter(env.DB, maxRps(env)),
    notice: (id) => {
      let n = notices.get(id);
      if (!n) {
        n = loadNotice(env.DB, id);
        n.catch(() => notices.delete(id));
        notices.set(id, n);
      }
      return n;
    },
    vendor,
    baseUrl: env.PUBLIC_BASE_URL,
    manageToken: (pub, sub) => noticeManageToken(env.NOTICE_TOKEN_KEY, pub, sub),
    now: options.now ?? (() => new Date()),
    maxAttempts: MAX_ATTEMPTS,
  };
}

/**
 * Consumer of NOTICE_QUEUE: each message is one chunk of a publication's fan-out (see fanout.ts for why a repeated or
 * retried message sends nobody twice). Messages are handled one by one; each is acked or retried on its own, so one
 * failing chunk never holds back the others.
 */
export async function handleQueue(
  batch: MessageBatch<unknown>,
  env: Env,
  options: { now?: () => Date } = {},
): Promise<void> {
  const deps = fanoutDeps(env, options);
  for (const message of batch.messages) {
    if (!isFanoutMessage(message.body)) {
      console.error("notice queue: dropping a message that is not a fan-out chunk", message.id);
      message.ack();
      continue;
    }
    try {
      const result = await processMessage(deps, message.body, message.attempts);
      if (result.action === "ack") message.ack();
      else message.retry({ delaySeconds: result.delaySeconds });
    } catch (err) {
      // Storage failure mid-way: every step is repeatable, so the message is simply tried again.
      console.error("notice queue: chunk failed, will retry", message.body.publicationId, message.body.chunk, err);
      message.retry({ delaySeconds: backoffSeconds(message.attempts) });
    }
  }
}
