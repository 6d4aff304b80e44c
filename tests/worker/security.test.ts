/**
 * Security by default: headers on every answer the worker gives, the Origin check on state-changing
 * requests, token strength and constant-time secret comparison, script-free pages.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { sha256Hex } from "../../domain/canonical.ts";
import { SECURITY_HEADERS } from "../../domain/security-headers.ts";
import { siteFooter, siteHeader } from "../../site/shell.ts";
import { vendor } from "../../worker/env.ts";
import { newToken, secretsEqual } from "../../worker/http/security.ts";
import { call, json, ORIGIN, outbox, resetTables, subscribe } from "./helpers.ts";

beforeEach(resetTables);

function expectSecurityHeaders(res: Response) {
  const csp = res.headers.get("Content-Security-Policy") ?? "";
  expect(csp).toContain("default-src 'self'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toContain("form-action 'self'");
  expect(csp).not.toContain("unsafe-inline");
  expect(csp).not.toContain("unsafe-eval");
  expect(res.headers.get("Strict-Transport-Security")).toMatch(/max-age=\d{8,}/);
  expect(res.headers.get("Referrer-Policy")).toBe("strict-origin-when-cross-origin");
  expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
  expect(res.headers.get("Permissions-Policy")).toContain("camera=()");
  // Exactly the list the site build writes into _headers (tests/unit/site-build.test.ts checks the built file).
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(res.headers.get(name), name).toBe(value);
}

describe("security headers on every response", () => {
  it.each([
    ["API JSON", "/api/health", {}],
    ["accepted sign-up", "/api/subscriptions", json({ email: "h@example.com" })],
    ["problem+json error", "/api/nope", {}],
    [
      "rejected cross-site request",
      "/api/subscriptions",
      json({ email: "h@example.com" }, { Origin: "https://evil.example" }),
    ],
    ["worker-rendered page", "/en/subscription/confirmed", {}],
    ["HTML error page", "/en/subscription/manage?token=x", {}],
    ["language redirect", "/", {}],
    ["static asset answered through the worker", "/da/subscription/unknown-page", {}],
  ] as const)("%s", async (_name, path, init) => {
    const res = await call(path, { ...init, redirect: "manual" });
    expect(res.status).toBeLessThan(500);
    expectSecurityHeaders(res);
  });

  it("the header set names exactly what the site's static _headers must match", () => {
    expect(Object.keys(SECURITY_HEADERS).sort()).toEqual([
      "Content-Security-Policy",
      "Cross-Origin-Opener-Policy",
      "Permissions-Policy",
      "Referrer-Policy",
      "Strict-Transport-Security",
      "X-Content-Type-Options",
      "X-Frame-Options",
    ]);
  });
});

describe("Origin check on state-changing requests", () => {
  it("allows the site's own origin and requests without Origin (curl, mail clients)", async () => {
    expect((await subscribe({ email: "o1@example.com" })).status).toBe(202);
    const same = await call("/api/subscriptions", json({ email: "o2@example.com" }, { Origin: ORIGIN }));
    expect(same.status).toBe(202);
  });

  it("refuses a cross-site Origin and Origin: null with 403, before anything is stored", async () => {
    for (const origin of ["https://evil.example", "null", "https://portal.example.evil.example"]) {
      const res = await call("/api/subscriptions", json({ email: "o3@example.com" }, { Origin: origin }));
      expect(res.status).toBe(403);
      expect(((await res.json()) as { code: string }).code).toBe("forbidden");
    }
    expect(await outbox()).toEqual([]);
  });

  it("compares with the request's own origin, not a configured URL", async () => {
    const res = await call(
      "https://other-host.example/api/subscriptions",
      json({ email: "o4@example.com" }, { Origin: "https://other-host.example" }),
    );
    expect(res.status).toBe(202);
  });

  it("does not apply to safe methods", async () => {
    const res = await call("/api/health", { headers: { Origin: "https://evil.example" } });
    expect(res.status).toBe(200);
  });
});

describe("tokens and secrets", () => {
  it("tokens carry 256 random bits (43 base64url characters) and never repeat", () => {
    const tokens = new Set(Array.from({ length: 1000 }, newToken));
    expect(tokens.size).toBe(1000);
    for (const t of tokens) expect(t).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("hashes with SHA-256", async () => {
    expect(await sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });

  it("secretsEqual: equal only for the same secret; an unset secret never matches", async () => {
    expect(await secretsEqual("s3cret-token", "s3cret-token")).toBe(true);
    expect(await secretsEqual("s3cret-token", "s3cret-tokeN")).toBe(false);
    expect(await secretsEqual("s3cret", "s3cret-token")).toBe(false);
    expect(await secretsEqual("", "")).toBe(false);
    expect(await secretsEqual("", undefined)).toBe(false);
  });
});

describe("worker-rendered pages", () => {
  it.each(["/da/subscription/confirmed", "/en/subscription/unsubscribe?token=abc", "/da/subscription/erased"])(
    "%s: lang, one h1, skip link, site stylesheet, no scripts, not cached",
    async (path) => {
      const res = await call(path);
      expect(res.status).toBe(200);
      expect(res.headers.get("Cache-Control")).toBe("no-store");
      const html = await res.text();
      expect(html).toContain(`<html lang="${path.slice(1, 3)}">`);
      expect(html.match(/<h1>/g)).toHaveLength(1);
      expect(html).toMatch(/<a class="skip" href="#main">/);
      expect(html).toContain('<link rel="stylesheet" href="/styles/site.css">');
      expect(html).not.toMatch(/<script|\son[a-z]+=/i);
    },
  );

  it("render in the site's shell: header with navigation and language switch, footer, the same strings", async () => {
    const html = await (await call("/en/subscription/unsubscribe?token=abc")).text();
    const locale = "en";
    const shell = { locale, vendor, alternate: "/da/subscription/unsubscribe?token=abc" } as const;
    expect(html).toContain(siteHeader(shell));
    expect(html).toContain(siteFooter(shell));
    expect(html).toContain('<nav class="wrap site-nav" aria-label="Main menu">');
    expect(html).toContain('<a href="/en/annex-c/">Annex C</a>');
    expect(html).toContain('<main id="main" class="wrap" tabindex="-1">');
    // A result page switches to the same result in the other language.
    const done = await (await call("/da/subscription/erased")).text();
    expect(done).toMatch(/<a class="lang" href="\/en\/subscription\/erased"/);
  });

  it("escapes what it echoes back", async () => {
    const res = await call('/en/subscription/unsubscribe?token="><script>alert(1)</script>');
    const html = await res.text();
    expect(html).not.toContain("<script>");
    expect(html).toContain("token=%22%3E%3Cscript%3E");
  });
});

describe("the root redirects by Accept-Language", () => {
  it.each([
    [undefined, "/da/"],
    ["en-GB,en;q=0.9", "/en/"],
    ["de-DE, da;q=0.5, en;q=0.4", "/da/"],
    ["fr, en;q=0.8", "/en/"],
    ["en;q=0, da", "/da/"],
    ["*", "/da/"],
  ])("Accept-Language %s → %s", async (header, location) => {
    const res = await call("/", { headers: header ? { "Accept-Language": header } : {}, redirect: "manual" });
    expect(res.status).toBe(302);
    expect(res.headers.get("Location")).toBe(location);
    expect(res.headers.get("Vary")).toContain("Accept-Language");
  });
});
