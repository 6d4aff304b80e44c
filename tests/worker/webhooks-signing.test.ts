/**
 * The two parts every webhook stands on (README "Webhooks"): the signing secret is sealed at rest and opens only for
 * its own endpoint under the configured key, and an attempt's headers verify with the `standardwebhooks` library a
 * receiver would use — with either secret while a rotation is in its 24 hours, and never after tampering.
 */
import { env } from "cloudflare:test";
import { Webhook } from "standardwebhooks";
import { describe, expect, inject, it } from "vitest";
import { webhookReceiver } from "../../testing/webhook-receiver-control.ts";
import { newWebhookSecret, openSecret, sealSecret } from "../../worker/webhooks/secret.ts";
import { classify, retryAfterSeconds, sendSigned, signatureHeaders } from "../../worker/webhooks/send.ts";

describe("sealed webhook secrets", () => {
  it("never stores the secret in the clear and opens only for the same endpoint and key", async () => {
    const secret = newWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const sealed = await sealSecret(env, "ep_a", secret);
    expect(sealed).not.toContain(secret.slice(6));
    expect(await openSecret(env, "ep_a", sealed)).toBe(secret);
    // Two seals of one secret differ (fresh IV), both open.
    const again = await sealSecret(env, "ep_a", secret);
    expect(again).not.toBe(sealed);
    expect(await openSecret(env, "ep_a", again)).toBe(secret);
    await expect(openSecret(env, "ep_b", sealed)).rejects.toThrow();
    await expect(
      openSecret({ WEBHOOK_SECRET_KEY: "another-key-of-enough-length-0123456789" }, "ep_a", sealed),
    ).rejects.toThrow();
    const [v, iv, data] = sealed.split(".");
    const flipped = `${data?.[0] === "A" ? "B" : "A"}${data?.slice(1)}`;
    await expect(openSecret(env, "ep_a", `${v}.${iv}.${flipped}`)).rejects.toThrow();
  });

  it("refuses to seal without a configured key", async () => {
    await expect(sealSecret({ WEBHOOK_SECRET_KEY: "" }, "ep_a", newWebhookSecret())).rejects.toThrow(
      /WEBHOOK_SECRET_KEY/,
    );
  });
});

describe("Standard Webhooks signatures", () => {
  const payload = JSON.stringify({ type: "annex-c.changed", data: { publication: 2 } });
  const now = new Date();

  it("verify with the receiver library, with the new or the old secret during a rotation", () => {
    const [current, previous] = [newWebhookSecret(), newWebhookSecret()];
    const headers = signatureHeaders([current, previous], "msg_1", now, payload);
    expect(headers["webhook-id"]).toBe("msg_1");
    expect(headers["webhook-signature"].split(" ")).toHaveLength(2);
    expect(new Webhook(current).verify(payload, headers)).toEqual(JSON.parse(payload));
    expect(new Webhook(previous).verify(payload, headers)).toEqual(JSON.parse(payload));
    expect(() => new Webhook(newWebhookSecret()).verify(payload, headers)).toThrow();
    expect(() => new Webhook(current).verify(`${payload} `, headers)).toThrow();
    expect(() => new Webhook(current).verify(payload, { ...headers, "webhook-id": "msg_2" })).toThrow();
  });

  it("an attempt signed more than 5 minutes ago fails verification (replay)", () => {
    const secret = newWebhookSecret();
    const old = signatureHeaders([secret], "msg_1", new Date(now.getTime() - 6 * 60_000), payload);
    expect(() => new Webhook(secret).verify(payload, old)).toThrow(/too old/);
  });

  it("classifies answers and reads Retry-After in both forms", () => {
    expect([200, 204, 299].map(classify)).toEqual(["delivered", "delivered", "delivered"]);
    expect([408, 429, 500, 503].map(classify)).toEqual(["retry", "retry", "retry", "retry"]);
    expect([301, 400, 401, 404, 410].map(classify)).toEqual(["final", "final", "final", "final", "final"]);
    expect(retryAfterSeconds("120", now)).toBe(120);
    expect(retryAfterSeconds(new Date(now.getTime() + 30_000).toUTCString(), now)).toBeGreaterThanOrEqual(29);
    expect(retryAfterSeconds("soon", now)).toBeNull();
    expect(retryAfterSeconds(null, now)).toBeNull();
  });
});

describe("one attempt against the local receiver (its own server, verifying with standardwebhooks)", () => {
  const base = inject("webhookReceiverUrl");
  const payload = JSON.stringify({ type: "webhook.test" });

  it("is verified and acted on once per webhook-id, a retry with the same id is ignored", async () => {
    const receiver = webhookReceiver(base, "attempt-ok");
    await receiver.reset();
    const secret = newWebhookSecret();
    await receiver.setSecrets(secret);
    const send = () =>
      sendSigned({ url: receiver.url, secrets: [secret], messageId: "msg_once", payload, now: new Date() });
    const first = await send();
    expect(first).toMatchObject({ outcome: "delivered", httpStatus: 200, error: null });
    expect(first.responseExcerpt).toContain("ok");
    expect((await send()).outcome).toBe("delivered");
    const state = await receiver.state();
    expect(Object.keys(state.unique)).toEqual(["msg_once"]);
    expect(state.duplicates).toBe(1);
    expect(state.rejected).toBe(0);
  });

  it("a forged signature is refused by the receiver, and that is final", async () => {
    const receiver = webhookReceiver(base, "attempt-forged");
    await receiver.reset();
    await receiver.setSecrets(newWebhookSecret());
    const attempt = await sendSigned({
      url: receiver.url,
      secrets: [newWebhookSecret()],
      messageId: "msg_forged",
      payload,
      now: new Date(),
    });
    expect(attempt).toMatchObject({ outcome: "final", httpStatus: 401 });
    expect((await receiver.state()).rejected).toBe(1);
    expect((await receiver.state()).unique).toEqual({});
  });

  it("reports 429 with Retry-After, a reset and a timeout as retryable, and keeps only 1 KB of an answer", async () => {
    const receiver = webhookReceiver(base, "attempt-faults");
    await receiver.reset();
    const secret = newWebhookSecret();
    await receiver.setSecrets(secret);
    await receiver.faults(
      { kind: "status", status: 429, retryAfter: "7" },
      { kind: "reset" },
      { kind: "hang" },
      { kind: "status", status: 500, body: "x".repeat(5000) },
    );
    const send = (timeoutMs?: number) =>
      sendSigned({ url: receiver.url, secrets: [secret], messageId: "msg_f", payload, now: new Date(), timeoutMs });
    expect(await send()).toMatchObject({ outcome: "retry", httpStatus: 429, retryAfterSeconds: 7 });
    const reset = await send();
    expect(reset).toMatchObject({ outcome: "retry", httpStatus: null });
    expect(reset.error).toMatch(/network error/);
    const hung = await send(300);
    expect(hung).toMatchObject({ outcome: "retry", httpStatus: null, error: "no answer within 0.3 s" });
    const big = await send();
    expect(big).toMatchObject({ outcome: "retry", httpStatus: 500 });
    expect(big.responseExcerpt).toHaveLength(1024);
    expect(Object.keys((await receiver.state()).unique)).toEqual([]);
    expect((await send()).outcome).toBe("delivered");
  });
});
