import type { MiddlewareHandler } from "hono";
import { base64url } from "../../domain/canonical.ts";
import { SECURITY_HEADERS } from "../../domain/security-headers.ts";
import { ApiError } from "./errors.ts";

/** 32 random bytes = 256 bits, twice the 128 a bearer token needs (docs/architecture.md "Subscriptions"). */
export const TOKEN_BYTES = 32;
/** base64url of 32 bytes without padding. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** A fresh bearer token from the platform CSPRNG. Only its hash is ever stored. */
export function newToken(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(TOKEN_BYTES)));
}

/** True when the string has the shape of a token we issue (cheap check before touching the database). */
export function looksLikeToken(value: string): boolean {
  return TOKEN_PATTERN.test(value);
}

/**
 * Compares a presented secret (ADMIN_TOKEN, webhook secrets…) with the configured one in constant time.
 * Both sides are hashed first so the comparison length never depends on the input; an empty configured
 * secret never matches, so a missing secret cannot be "guessed" by sending an empty one.
 */
export async function secretsEqual(presented: string, configured: string | undefined): Promise<boolean> {
  if (!configured) return false;
  const enc = new TextEncoder();
  const [a, b] = await Promise.all([
    crypto.subtle.digest("SHA-256", enc.encode(presented)),
    crypto.subtle.digest("SHA-256", enc.encode(configured)),
  ]);
  return crypto.subtle.timingSafeEqual(a, b);
}

/** Reads `Authorization: Bearer <token>`; undefined when absent or of another scheme. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/**
 * Copies the security headers (domain/security-headers.ts) onto every response the worker answers (pages, API,
 * errors and assets it proxies); the same list is built into the site's `_headers` for static assets served without
 * the worker. A response whose headers are immutable is re-wrapped.
 */
export function withSecurityHeaders(response: Response): Response {
  let res = response;
  try {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.headers.set(name, value);
  } catch {
    res = new Response(response.body, response);
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.headers.set(name, value);
  }
  return res;
}

export const securityHeaders: MiddlewareHandler = async (c, next) => {
  await next();
  c.res = withSecurityHeaders(c.res);
};

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Origin check on state-changing requests (docs/architecture.md "Subscriptions"): a cross-site Origin, or `Origin: null`
 * (sandboxed frames, privacy redirects), is refused with 403. No Origin at all is allowed: curl,
 * server-to-server webhooks and mail clients' RFC 8058 one-click POSTs send none. The comparison is
 * with the request's own origin, not a configured URL, so it holds on any host the worker answers.
 */
export const originCheck: MiddlewareHandler = async (c, next) => {
  if (!SAFE_METHODS.has(c.req.method)) {
    const origin = c.req.header("Origin");
    if (origin !== undefined && origin !== new URL(c.req.url).origin) {
      throw new ApiError("forbidden", "Cross-site requests are not accepted: the Origin does not match this site.");
    }
  }
  await next();
};
