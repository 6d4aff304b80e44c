/**
 * POST /api/webhooks/resend (docs/architecture.md "Arrows"): Svix-signed; a missing or wrong signature, or a timestamp older than
 * 5 minutes, is refused with 401; bounces and complaints suppress the address; a duplicate delivery is harmless.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { call, signedWebhook } from "./helpers.ts";
import { resetNoticeTables } from "./notices-helpers.ts";

const EMAIL = "bounce-me@customer.example";

async function statusOf(email: string) {
  return (
    (await env.DB.prepare("SELECT status, suppressed_reason FROM subscribers WHERE email = ?1")
      .bind(email)
      .first<{ status: string; suppressed_reason: string | null }>()) ?? undefined
  );
}

const signed = signedWebhook;

const bounce = JSON.stringify({
  type: "email.bounced",
  created_at: "2026-11-23T09:00:00.000Z",
  data: { email_id: "e1", to: [EMAIL], subject: "Notice" },
});

beforeEach(async () => {
  await resetNoticeTables();
  await env.DB.prepare("DELETE FROM subscribers WHERE email = ?1").bind(EMAIL).run();
  await env.DB.prepare(
    "INSERT INTO subscribers (id, email, locale, topics, regions, status, created_at, updated_at, confirmed_at) " +
      "VALUES ('wh-1', ?1, 'en', '[\"subprocessors\"]', '[]', 'confirmed', ?2, ?2, ?2)",
  )
    .bind(EMAIL, "2026-11-01T00:00:00.000Z")
    .run();
});

describe("Resend webhooks", () => {
  it("a signed bounce suppresses the address; the same webhook again is acknowledged and changes nothing", async () => {
    const request = signed(bounce);
    const first = await call("/api/webhooks/resend", request);
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ status: "processed", suppressed: 1 });
    expect(await statusOf(EMAIL)).toEqual({ status: "suppressed", suppressed_reason: "bounce" });
    const again = await call("/api/webhooks/resend", request);
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ status: "duplicate" });
    expect(await statusOf(EMAIL)).toEqual({ status: "suppressed", suppressed_reason: "bounce" });
  });

  it("a complaint suppresses the address too", async () => {
    const res = await call("/api/webhooks/resend", signed(bounce.replace("email.bounced", "email.complained")));
    expect(res.status).toBe(200);
    expect((await statusOf(EMAIL))?.suppressed_reason).toBe("complaint");
  });

  it("other events are acknowledged and change nothing", async () => {
    const res = await call("/api/webhooks/resend", signed(bounce.replace("email.bounced", "email.opened")));
    expect(res.status).toBe(200);
    expect((await statusOf(EMAIL))?.status).toBe("confirmed");
  });

  it.each([
    ["missing signature headers", { method: "POST", headers: { "Content-Type": "application/json" }, body: bounce }],
    [
      "a signature made with another secret",
      signed(bounce, { secret: "whsec_b3RoZXItc2VjcmV0LW5vdC1vdXJzLTAxMjM0NTY=" }),
    ],
    ["a timestamp older than 5 minutes", signed(bounce, { at: new Date(Date.now() - 6 * 60 * 1000) })],
  ])("refuses %s with 401 problem+json and suppresses nobody", async (_name, request) => {
    const res = await call("/api/webhooks/resend", request);
    expect(res.status).toBe(401);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    expect((await statusOf(EMAIL))?.status).toBe("confirmed");
  });

  it("refuses a body changed after signing", async () => {
    const request = signed(bounce);
    const res = await call("/api/webhooks/resend", { ...request, body: bounce.replace(EMAIL, "someone@else.example") });
    expect(res.status).toBe(401);
  });
});
