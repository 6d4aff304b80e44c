/**
 * The email port: everything that sends mail goes through `EmailTransport.send`. Two adapters: `outbox` (stores the
 * message in D1 for local development and tests, email/outbox.ts) and `resend` (Resend's API, email/resend.ts);
 * email/transport.ts picks one. Free of worker bindings, so the send loop (notices/engine/) and the benchmark in Node
 * use these types too (docs/architecture.md "Node-safe and workerd-only").
 */
import { RESEND_BATCH_LIMIT } from "../../domain/notice.ts";
import type { OutgoingEmail } from "../../emails/message.ts";

export interface SendOptions {
  /**
   * Same key + same messages = the same send: a retry after a lost answer does not send twice
   * (Resend keeps keys for 24 hours). Deterministic per batch, e.g. `notice/<publication>/<batch>`.
   */
  idempotencyKey?: string;
  /**
   * Awaited once the request is ready to leave (body serialised, headers set), right before the provider call: the
   * send budget's slot (notices/engine/rate.ts). Nothing heavy runs between it and the call, so a call that leaves
   * counts where its slot says, however long the serialisation took or however busy the event loop was before. It may
   * resolve with `Departed`, which the transport calls once the request is handed over (see Departed).
   */
  gate?: () => Promise<Departed | undefined>;
}

/**
 * Records when a call left. Called once the request has been handed to the network and the thread has been back in
 * its event loop, where the request is written: the send budget counts the next calls from that moment.
 */
export type Departed = () => void;

export type SendOutcome =
  /** Accepted for delivery; one provider id per message, in order. */
  | { outcome: "sent"; ids: string[] }
  /** Refused with an answer. `retryable` for 429 and 5xx; `retryAfterSeconds` when the provider said. */
  | { outcome: "failed"; status: number; retryable: boolean; message: string; retryAfterSeconds?: number }
  /** No answer (network failure, timeout, dropped connection): it may or may not have been sent. Retry with the same key. */
  | { outcome: "unknown"; message: string };

export interface EmailTransport {
  readonly name: "outbox" | "resend";
  /** Sends 1..RESEND_BATCH_LIMIT messages as one call. Never throws for provider failures. */
  send(messages: readonly OutgoingEmail[], options?: SendOptions): Promise<SendOutcome>;
}

export interface TransportOverrides {
  /** Give up waiting for Resend after this long (outcome "unknown"). */
  timeoutMs?: number;
}

export function assertBatchSize(messages: readonly OutgoingEmail[]): void {
  if (messages.length > RESEND_BATCH_LIMIT) {
    throw new RangeError(`at most ${RESEND_BATCH_LIMIT} emails per send (got ${messages.length}); split the batch`);
  }
}

/**
 * Sends and logs the outcome, for mail sent outside the request/response path (`waitUntil`):
 * a failure there must be visible in the logs, not an unhandled rejection.
 */
export async function sendAndLog(
  transport: EmailTransport,
  messages: readonly OutgoingEmail[],
  what: string,
  options?: SendOptions,
): Promise<SendOutcome> {
  try {
    const result = await transport.send(messages, options);
    if (result.outcome !== "sent") console.warn(`email not sent (${what}) via ${transport.name}`, result);
    return result;
  } catch (err) {
    console.error(`email failed (${what}) via ${transport.name}`, err);
    return { outcome: "unknown", message: String(err) };
  }
}
