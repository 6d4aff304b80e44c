import { Resend } from "resend";
import {
  assertBatchSize,
  type EmailTransport,
  type SendOptions,
  type SendOutcome,
  type TransportOverrides,
} from "./port.ts";

/** How long to wait for Resend before treating the send as "outcome unknown". */
export const RESEND_TIMEOUT_MS = 15_000;

interface ResendFailure {
  message: string;
  statusCode: number | null;
  name: string;
}

/**
 * Maps the SDK's `{data, error, headers}` (it never throws) to a SendOutcome. `statusCode: null` is
 * how the SDK reports that no answer arrived (network failure, abort): the email may have gone out.
 */
export function outcomeOf(error: ResendFailure, headers: Record<string, string> | null): SendOutcome {
  if (error.statusCode === null) return { outcome: "unknown", message: error.message };
  const status = error.statusCode;
  const retryable = status === 429 || status >= 500;
  const failed: SendOutcome = { outcome: "failed", status, retryable, message: `${error.name}: ${error.message}` };
  const retryAfter = Number(headers?.["retry-after"]);
  if (status === 429 && Number.isFinite(retryAfter) && retryAfter >= 0) failed.retryAfterSeconds = retryAfter;
  return failed;
}

/**
 * The settings the adapter reads: a narrow part of the worker's `Env`, so the benchmark in Node passes its own
 * (this file has no worker bindings; docs/architecture.md "Node-safe and workerd-only").
 */
export interface ResendSettings {
  RESEND_API_KEY: string;
  RESEND_BASE_URL: string;
  EMAIL_FROM: string;
}

/**
 * The SDK with one hook: `fetchRequest` is where the SDK, with the body already serialised (`post` runs JSON.stringify
 * first), calls `fetch`. The gate is awaited there, so serialising a batch of 100 emails (about 1.5 MB) happens before
 * the send slot is booked and checked, never between the check and the call. The timeout starts after the gate: a
 * wait for a slot is not a provider that does not answer.
 *
 * The departure is read on the turn after `fetch`: the request is written once the isolate's thread is back in its
 * event loop, and whatever holds the thread before that (a garbage collection after the megabyte and a half just
 * handed over is the likely cause) delays the call, not a clock read before or right after `fetch`. On the benchmark a call reached the provider up to
 * 29 ms after a clock read right before `fetch`, because the thread was held up to 27 ms before the next turn; read on
 * that turn, the departure is within a few ms of the arrival (notices/engine/rate.ts ARRIVAL_JITTER_MS).
 */
class GatedResend extends Resend {
  readonly #gate: NonNullable<SendOptions["gate"]>;
  readonly #timeoutMs: number;
  constructor(key: string, baseUrl: string, gate: NonNullable<SendOptions["gate"]>, timeoutMs: number) {
    super(key, { baseUrl });
    this.#gate = gate;
    this.#timeoutMs = timeoutMs;
  }
  override async fetchRequest<T>(path: string, options: RequestInit = {}) {
    const departed = await this.#gate();
    const answer = super.fetchRequest<T>(path, { ...options, signal: AbortSignal.timeout(this.#timeoutMs) });
    if (departed) void yieldToTimers().then(departed);
    return answer;
  }
}

/**
 * The SDK serialises the whole body with one JSON.stringify: for 100 emails (about 1.5 MB) one block of some 12 ms on
 * the isolate's only thread, and a call whose send slot came just before it would reach the network that much later
 * than the moment recorded as its departure (README "Benchmarks"). The two large fields of each email are serialised
 * here instead, a few emails at a time with a yield between, and handed over as JSON.rawJSON values, which
 * JSON.stringify writes as they are: the same bytes, in slices of about a millisecond.
 */
const SERIALISE_SLICE = 10;
const yieldToTimers = () => new Promise<void>((resolve) => setTimeout(resolve, 0));
const rawJson = (text: string): string =>
  (JSON as unknown as { rawJSON(json: string): unknown }).rawJSON(JSON.stringify(text)) as string;

/** No send budget to wait for (a confirmation email, an alert). */
const noGate = async () => undefined;

/**
 * EMAIL_TRANSPORT=resend: Resend's SDK pointed at RESEND_BASE_URL (tests use a local fake). One
 * message goes to POST /emails, several to POST /emails/batch (≤ RESEND_BATCH_LIMIT), with the Idempotency-Key.
 */
export function resendTransport(env: ResendSettings, overrides: TransportOverrides = {}): EmailTransport {
  const baseUrl = env.RESEND_BASE_URL.replace(/\/$/, "");
  const timeoutMs = overrides.timeoutMs ?? RESEND_TIMEOUT_MS;
  return {
    name: "resend",
    async send(messages, options = {}) {
      assertBatchSize(messages);
      if (messages.length === 0) return { outcome: "sent", ids: [] };
      // One client per call, so each call carries its own gate (consumers share the transport).
      const client = new GatedResend(env.RESEND_API_KEY, baseUrl, options.gate ?? noGate, timeoutMs);
      const payload = [];
      for (const [i, m] of messages.entries()) {
        if (i > 0 && i % SERIALISE_SLICE === 0) await yieldToTimers();
        payload.push({
          from: env.EMAIL_FROM,
          to: [m.to],
          subject: m.subject,
          html: rawJson(m.html),
          text: rawJson(m.text),
          headers: m.headers,
          ...(m.tags ? { tags: [...m.tags] } : {}),
        });
      }
      const requestOptions = options.idempotencyKey ? { idempotencyKey: options.idempotencyKey } : {};
      const first = payload[0];
      if (payload.length === 1 && first) {
        const { data, error, headers } = await client.emails.send(first, requestOptions);
        if (error) return outcomeOf(error, headers);
        return { outcome: "sent", ids: [data.id] };
      }
      const { data, error, headers } = await client.batch.send(payload, requestOptions);
      if (error) return outcomeOf(error, headers);
      return { outcome: "sent", ids: data.data.map((d) => d.id) };
    },
  };
}
