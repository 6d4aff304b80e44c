/**
 * One signed webhook attempt (README "Webhooks"), shared by the activation test and the publication deliveries.
 *
 * Headers follow Standard Webhooks: `webhook-id` (the same on every retry, so a receiver de-duplicates),
 * `webhook-timestamp` (this attempt's time; receivers refuse one older than 5 minutes, so a retry is signed afresh) and
 * `webhook-signature` (`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, computed by the `standardwebhooks` package).
 * While a rotated secret is still valid, the attempt carries one signature per secret, space-separated, as the
 * specification allows, so a receiver holding either verifies.
 *
 * Outcome: 2xx delivered. Retried: no answer (network error, reset), the 10 s timeout, 408, 429 (Retry-After honoured)
 * and 5xx. Redirects are not followed (a redirect to a private address would undo the SSRF guard) and, like every
 * other 3xx and 4xx, are final.
 */
import { Webhook } from "standardwebhooks";

/** How long an endpoint has to answer, test event included (README "Webhooks"). */
export const WEBHOOK_TIMEOUT_MS = 10_000;
/** How much of an answer is kept in the attempt record. */
export const RESPONSE_EXCERPT_BYTES = 1024;

export type AttemptOutcome = "delivered" | "retry" | "final";

export interface WebhookAttempt {
  outcome: AttemptOutcome;
  /** HTTP status; null when no answer came. */
  httpStatus: number | null;
  latencyMs: number;
  /** The first RESPONSE_EXCERPT_BYTES of the answer body, decoded as UTF-8 (lossy). */
  responseExcerpt: string | null;
  error: string | null;
  /** Seconds the receiver asked us to wait (429/503 Retry-After), when it said. */
  retryAfterSeconds: number | null;
}

export interface SignedRequest {
  url: string;
  /** Every currently valid `whsec_…` secret of the endpoint, newest first. */
  secrets: readonly string[];
  messageId: string;
  /** The exact body; frozen in the ledger, so every retry signs the same bytes. */
  payload: string;
  now: Date;
  fetcher?: typeof fetch;
  timeoutMs?: number;
}

export interface SignatureHeaders {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
}

/** The three Standard Webhooks headers for one attempt. */
export function signatureHeaders(
  secrets: readonly string[],
  messageId: string,
  at: Date,
  payload: string,
): SignatureHeaders {
  if (secrets.length === 0) throw new Error("an endpoint without a secret cannot be signed for");
  return {
    "webhook-id": messageId,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "webhook-signature": secrets.map((s) => new Webhook(s).sign(messageId, at, payload)).join(" "),
  };
}

/** Retry-After as seconds (delta-seconds or an HTTP date), null when absent or unreadable. */
export function retryAfterSeconds(header: string | null, now: Date): number | null {
  if (!header) return null;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now.getTime()) / 1000));
}

export function classify(status: number): AttemptOutcome {
  if (status >= 200 && status < 300) return "delivered";
  if (status === 408 || status === 429 || status >= 500) return "retry";
  return "final";
}

async function excerpt(response: Response): Promise<string | null> {
  if (!response.body) return null;
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < RESPONSE_EXCERPT_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    // The rest of a large answer is never read.
    await reader.cancel().catch(() => {});
  }
  const all = new Uint8Array(Math.min(size, RESPONSE_EXCERPT_BYTES));
  let offset = 0;
  for (const c of chunks) {
    const part = c.subarray(0, all.byteLength - offset);
    all.set(part, offset);
    offset += part.byteLength;
    if (offset >= all.byteLength) break;
  }
  return new TextDecoder().decode(all);
}

/** Sends one signed POST and reports what happened; never throws for anything the endpoint does. */
export async function sendSigned(request: SignedRequest): Promise<WebhookAttempt> {
  const fetcher = request.fetcher ?? fetch;
  const timeoutMs = request.timeoutMs ?? WEBHOOK_TIMEOUT_MS;
  const headers = {
    "content-type": "application/json",
    "user-agent": "subprocessor-portal-webhooks/1",
    ...signatureHeaders(request.secrets, request.messageId, request.now, request.payload),
  };
  const started = Date.now();
  try {
    const response = await fetcher(request.url, {
      method: "POST",
      headers,
      body: request.payload,
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = await excerpt(response);
    return {
      outcome: classify(response.status),
      httpStatus: response.status,
      latencyMs: Date.now() - started,
      responseExcerpt: body,
      error: null,
      retryAfterSeconds:
        response.status === 429 || response.status === 503
          ? retryAfterSeconds(response.headers.get("retry-after"), request.now)
          : null,
    };
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
    return {
      outcome: "retry",
      httpStatus: null,
      latencyMs: Date.now() - started,
      responseExcerpt: null,
      error: timedOut
        ? `no answer within ${timeoutMs / 1000} s`
        : `network error: ${String((error as Error).message ?? error).slice(0, 200)}`,
      retryAfterSeconds: null,
    };
  }
}
