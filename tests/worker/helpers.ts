/**
 * Helpers for worker tests: call the worker as the runtime would and wait for its `waitUntil` work
 * (emails are sent after the answer), read the outbox, and snapshot the database.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { signedWebhook as signedResendWebhook } from "../../testing/resend-webhook.ts";
import { listOutbox, type OutboxEmail } from "../../worker/db/outbox.ts";
import worker from "../../worker/index.ts";

export const ORIGIN = "https://portal.example";

/** The bindings of a development machine, where GET /api/dev/outbox is served (loopback PUBLIC_BASE_URL). */
export const LOCAL_DEV: Partial<Env> = { PUBLIC_BASE_URL: "http://127.0.0.1:8787" };

export type { OutboxEmail };

/** Sends a request through the worker's fetch handler and waits until its deferred work has finished. */
export async function call(path: string, init: RequestInit = {}, bindings: Partial<Env> = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(new URL(path, ORIGIN), init), { ...env, ...bindings }, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

export function json(body: unknown, headers: Record<string, string> = {}): RequestInit {
  return { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body: JSON.stringify(body) };
}

/** A browser's HTML form post: form-encoded, asking for HTML, sent from the site's own origin. */
export function browserForm(fields: [string, string][], method = "POST"): RequestInit {
  return {
    method,
    headers: {
      "Content-Type": "application/x-www-form-urlencoded",
      Accept: "text/html,application/xhtml+xml,*/*;q=0.8",
      Origin: ORIGIN,
    },
    body: new URLSearchParams(fields).toString(),
    redirect: "manual",
  };
}

let ipCounter = 0;
/** A fresh client IP, so the per-IP limit of one test does not spill into the next. */
export function freshIp(): string {
  ipCounter += 1;
  return `198.51.100.${ipCounter % 250}-${Date.now()}-${ipCounter}`;
}

export async function subscribe(body: Record<string, unknown>, ip = freshIp()): Promise<Response> {
  return call("/api/subscriptions", json(body, { "CF-Connecting-IP": ip }));
}

/** What the outbox transport "sent", newest first, read from D1 (tests run with a public PUBLIC_BASE_URL). */
export async function outbox(to?: string): Promise<OutboxEmail[]> {
  return listOutbox(env.DB, to ? { to, limit: 500 } : { limit: 500 });
}

/** The token in the first link in an email's text that points at `path`. */
export function tokenFrom(email: OutboxEmail, path: string): string {
  const match = new RegExp(`${path.replace(/[/.?]/g, "\\$&")}\\?token=([A-Za-z0-9_-]+)`).exec(email.text);
  if (!match?.[1]) throw new Error(`no ${path} link in email "${email.subject}"`);
  return match[1];
}

/** Every row of every table the subscription side owns, for "nothing changed" assertions. */
export async function snapshot(): Promise<Record<string, unknown[]>> {
  const tables = ["subscribers", "subscription_tokens", "rate_limits", "outbox"];
  const out: Record<string, unknown[]> = {};
  for (const table of tables) {
    out[table] = (await env.DB.prepare(`SELECT * FROM ${table} ORDER BY rowid`).all()).results;
  }
  return out;
}

export async function resetTables(): Promise<void> {
  await env.DB.batch(
    ["subscription_tokens", "subscribers", "rate_limits", "outbox"].map((t) => env.DB.prepare(`DELETE FROM ${t}`)),
  );
}

/** Signs up through the API and confirms with the link of the confirmation email. */
export async function signUpAndConfirm(email: string, body: Record<string, unknown>): Promise<void> {
  expect((await subscribe({ email, ...body })).status).toBe(202);
  const [confirmation] = await outbox(email);
  if (!confirmation) throw new Error("no confirmation email");
  const res = await call(
    "/api/subscriptions/confirm",
    json({ token: tokenFrom(confirmation, "/subscription/confirm") }),
  );
  expect(res.status).toBe(200);
}

/** A webhook request as Resend sends it: Svix-signed with the configured secret (or `secret`), at `at`. */
export function signedWebhook(payload: string, options: { id?: string; at?: Date; secret?: string } = {}) {
  return signedResendWebhook(payload, options.secret ?? env.RESEND_WEBHOOK_SECRET, options);
}
