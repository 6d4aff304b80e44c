import { sha256Hex } from "../../domain/canonical.ts";
import type { Notice } from "../../domain/notice.ts";
import { renderFanoutAlert } from "../../emails/fanout-alert.ts";
import { isRegistrationMessage, sendRegistrations } from "../customers/registrations.ts";
import { recordDeadMessage } from "../db/dead-letters.ts";
import { d1DeliveryStore } from "../db/deliveries.ts";
import { d1SlotBook } from "../db/send-log.ts";
import { emailTransport } from "../email/transport.ts";
import { publicUrl, vendor } from "../env.ts";
import { backoffSeconds, type FanoutDeps, type FanoutMessage, processMessage, SEND_LEASE_MS } from "./engine/fanout.ts";
import { sendIntervalMs, slotLimiter, transportSender } from "./engine/rate.ts";
import { noticeToken } from "./engine/tokens.ts";
import { loadNotice } from "./publish.ts";
import { RECOVERY_MAX_REQUEUES, sendFanoutAlert } from "./recovery.ts";

/**
 * Attempts of one message before its open deliveries are given up as dead and listed in dead_letters. Kept equal to
 * the queue's max_retries (wrangler.toml: 10), so the consumer decides, not the platform's dead letter queue.
 */
export const MAX_ATTEMPTS = 10;

/** Resend plan limit when RESEND_MAX_RPS is unset or unreadable: 2 requests per second. */
export const DEFAULT_MAX_RPS = 2;

/** The send lease (SEND_LEASE_MS) unless NOTICE_SEND_LEASE_SECONDS says otherwise (the end-to-end test uses seconds). */
export function sendLeaseMs(env: Pick<Env, "NOTICE_SEND_LEASE_SECONDS">): number {
  const n = Number(env.NOTICE_SEND_LEASE_SECONDS);
  return Number.isFinite(n) && n > 0 ? n * 1000 : SEND_LEASE_MS;
}

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

/** The round trips of this isolate's last slot bookings (rate.ts SLOT_LEAD_MS), kept from one queue batch to the next. */
const bookings: number[] = [];

export function fanoutDeps(env: Env, options: { now?: () => Date } = {}): FanoutDeps {
  const notices = new Map<number, Promise<Notice>>();
  return {
    store: d1DeliveryStore(env.DB),
    sender: transportSender(emailTransport(env)),
    limiter: slotLimiter(d1SlotBook(env.DB), maxRps(env), { bookings }),
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
    manageToken: (pub, id, contact) => noticeToken(env.NOTICE_TOKEN_KEY, pub, id, contact),
    now: options.now ?? (() => new Date()),
    maxAttempts: MAX_ATTEMPTS,
    sendLeaseMs: sendLeaseMs(env),
  };
}

/**
 * Messages of one batch handled at once. While one waits for its send slot (worker/notices/engine/rate.ts), the next
 * ones do their D1 work and render, so the provider's rate is used, not the round trips (README "Benchmarks": one at
 * a time reached 0.73 of the ceiling at 10 requests a second). Each holds one rendered batch of at most 100 emails, so
 * memory stays bounded whatever the batch size. A message waiting out a provider's retry-after gives its place to the
 * next one meanwhile (it keeps its rendered batch); once the rest of the batch has too few calls to fill the wait, it
 * goes back to the queue with that delay instead: the queue hands a consumer one batch at a time, and a one-second
 * wait at the end of one would leave the provider's rate unused until the next (README "Benchmarks"). The messages
 * render and serialise one at a time (FanoutDeps.preparing), so the first of a batch is ready first.
 */
export const MESSAGES_AT_ONCE = 4;

/** At most `size` holders at a time, served in the order they asked. */
function places(size: number) {
  let free = size;
  const waiting: (() => void)[] = [];
  return {
    take: () =>
      new Promise<void>((resolve) => {
        if (free > 0) {
          free--;
          resolve();
        } else waiting.push(resolve);
      }),
    give() {
      const next = waiting.shift();
      if (next) next();
      else free++;
    },
    /** Holders still waiting for a place. */
    waiting: () => waiting.length,
    /** Places taken. */
    held: () => size - free,
  };
}

/**
 * Consumer of NOTICE_QUEUE: each message is one chunk of a publication's fan-out (see fanout.ts for why a repeated or
 * retried message sends nobody twice, also when two copies run at once), or a batch of customer contacts'
 * registration emails (customers/registrations.ts), both within the one RESEND_MAX_RPS budget. Up to
 * MESSAGES_AT_ONCE messages are handled at a time; each is acked or retried on its own, so one failing chunk never
 * holds back the others.
 */
export async function handleQueue(
  batch: MessageBatch<unknown>,
  env: Env,
  options: { now?: () => Date } = {},
): Promise<void> {
  const place = places(MESSAGES_AT_ONCE);
  const preparing = places(1);
  const intervalMs = sendIntervalMs(maxRps(env));
  const deps: FanoutDeps = {
    ...fanoutDeps(env, options),
    sleep: async (ms) => {
      place.give();
      await new Promise((resolve) => setTimeout(resolve, ms));
      await place.take();
    },
    // Worth it while the messages left to start, and the others under way, have calls enough to fill the wait.
    mayWaitInPlace: (waitMs) => (place.waiting() + place.held() - 1) * intervalMs >= waitMs,
    preparing: async () => {
      await preparing.take();
      return () => preparing.give();
    },
  };
  const handle = async (message: Message<unknown>) => {
    if (isRegistrationMessage(message.body)) {
      try {
        const result = await sendRegistrations(env, message.body, message.attempts, MAX_ATTEMPTS, maxRps(env));
        if (result.action === "ack") message.ack();
        else message.retry({ delaySeconds: result.delaySeconds });
      } catch (err) {
        console.error("notice queue: contact registrations failed, will retry", err);
        message.retry({ delaySeconds: backoffSeconds(message.attempts) });
      }
      return;
    }
    if (!isFanoutMessage(message.body)) {
      console.error("notice queue: dropping a message that is not a fan-out chunk", message.id);
      message.ack();
      return;
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
  };
  await Promise.all(
    batch.messages.map(async (message) => {
      await place.take();
      try {
        await handle(message);
      } finally {
        place.give();
      }
    }),
  );
}

/** The dead letter queue of NOTICE_QUEUE (wrangler.toml `dead_letter_queue`). */
export const DEAD_LETTER_QUEUE = "notices-dlq";

/**
 * Deliveries of a message on the notice queue before the platform moves it to the dead letter queue: wrangler.toml
 * max_retries (10) retries after the first delivery.
 */
const QUEUE_DELIVERIES = MAX_ATTEMPTS + 1;

/**
 * Consumer of the dead letter queue. A message lands there only when its consumer invocation died on every delivery
 * (the consumer itself acks what it gives up, see MAX_ATTEMPTS). Each one is recorded in dead_letters with the rows of
 * its chunk still open, and the vendor is alerted; the rows stay open, so the reconciler (recovery.ts) queues the
 * chunk again, at most RECOVERY_MAX_REQUEUES times. A message is acked only once it is recorded and the alert went
 * out; a re-delivered message is recorded once (its id is unique) and alerted under the same Idempotency-Key.
 */
export async function handleDeadLetters(
  batch: MessageBatch<unknown>,
  env: Env,
  options: { now?: () => Date } = {},
): Promise<void> {
  const now = (options.now ?? (() => new Date()))().toISOString();
  const letters: { publicationId: number; chunk: number; open: number }[] = [];
  try {
    for (const message of batch.messages) {
      const body = isFanoutMessage(message.body) ? message.body : null;
      const reason = body
        ? `dead letter queue: the consumer failed on all ${QUEUE_DELIVERIES} deliveries of this batch; the open ` +
          `deliveries are queued again by the reconciler, at most ${RECOVERY_MAX_REQUEUES} times`
        : `dead letter queue: not a fan-out chunk: ${JSON.stringify(message.body)?.slice(0, 500)}`;
      const open = await recordDeadMessage(env.DB, {
        queueMessageId: message.id,
        message: body,
        attempts: QUEUE_DELIVERIES,
        reason,
        now,
      });
      letters.push({ publicationId: body?.publicationId ?? 0, chunk: body?.chunk ?? -1, open: open.length });
    }
  } catch (err) {
    console.error("dead letter queue: could not record the batch, will retry", err);
    batch.retryAll({ delaySeconds: 60 });
    return;
  }
  if (letters.length === 0) return;
  const alert = renderFanoutAlert({
    subject: `${letters.length} batch(es) in the dead letter queue`,
    lines: [
      "The notice queue gave up on these batches after every delivery failed. They are recorded in the dead letters; " +
        `their open deliveries are queued again automatically, at most ${RECOVERY_MAX_REQUEUES} times.`,
      ...letters.map((l) =>
        l.chunk < 0
          ? "A message that is not a fan-out batch (see the dead letters)."
          : `Publication ${l.publicationId}, batch ${l.chunk}: ${l.open} delivery(ies) still open.`,
      ),
    ],
    adminUrl: publicUrl(env, "/api/admin/publications"),
  });
  const key = await sha256Hex(batch.messages.map((m) => m.id).join(","));
  if (await sendFanoutAlert(env, alert, `dead-letters/${key}`)) batch.ackAll();
  else batch.retryAll({ delaySeconds: 60 });
}
