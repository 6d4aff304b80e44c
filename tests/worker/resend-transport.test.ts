/**
 * The Resend adapter against testing/resend-server.ts (started by the global setup, reached from
 * workerd over loopback via RESEND_BASE_URL). Every answer Resend can give maps to one SendOutcome;
 * the SDK's {data, error} return is handled (it never throws), and no answer means "unknown".
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { RESEND_BATCH_LIMIT } from "../../domain/notice.ts";
import type { OutgoingEmail } from "../../emails/message.ts";
import { resendAccount } from "../../testing/resend-control.ts";
import { resendTransport } from "../../worker/email/resend.ts";
import { memorySlotBook, SLOT_LATENESS_MS, type SlotBook, slotLimiter } from "../../worker/notices/engine/rate.ts";
import { call, json } from "./helpers.ts";

let accounts = 0;
/** A fresh fake-Resend account (API key) per test, so scripted faults never leak between tests. */
function setup(timeoutMs = 2_000) {
  accounts += 1;
  const apiKey = `re_test_${accounts}_${crypto.randomUUID()}`;
  const testEnv = {
    ...env,
    RESEND_API_KEY: apiKey,
    EMAIL_TRANSPORT: "resend",
    EMAIL_FROM: "Portal <notices@portal.example>",
  };
  return {
    apiKey,
    testEnv,
    fake: resendAccount(env.RESEND_BASE_URL, apiKey),
    transport: resendTransport(testEnv, { timeoutMs }),
  };
}

const message = (to: string): OutgoingEmail => ({
  to,
  subject: `Hello ${to}`,
  html: "<p>Hello</p>",
  text: "Hello",
  headers: {
    "List-Unsubscribe": "<https://portal.example/u?token=x>",
    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
  },
});

describe("Resend transport", () => {
  it("sends one email to POST /emails with the API key, sender, both bodies and the headers", async () => {
    const { transport, fake, apiKey } = setup();
    const result = await transport.send([message("one@example.com")]);
    expect(result).toEqual({ outcome: "sent", ids: [expect.any(String)] });
    const state = await fake.state();
    expect(state.requests).toHaveLength(1);
    const req = state.requests[0];
    expect(req?.path).toBe("/emails");
    expect(req?.headers.authorization).toBe(`Bearer ${apiKey}`);
    expect(req?.body).toMatchObject({
      from: "Portal <notices@portal.example>",
      to: ["one@example.com"],
      subject: "Hello one@example.com",
      html: "<p>Hello</p>",
      text: "Hello",
      headers: { "List-Unsubscribe-Post": "List-Unsubscribe=One-Click" },
    });
    expect(state.delivered.map((d) => d.to)).toEqual([["one@example.com"]]);
  });

  it("sends several as one POST /emails/batch with the Idempotency-Key; a retry with the key sends nothing twice", async () => {
    const { transport, fake } = setup();
    const batch = ["a@example.com", "b@example.com", "c@example.com"].map(message);
    const first = await transport.send(batch, { idempotencyKey: "notice/1/batch/0" });
    expect(first.outcome).toBe("sent");
    const again = await transport.send(batch, { idempotencyKey: "notice/1/batch/0" });
    expect(again).toEqual(first);
    const state = await fake.state();
    expect(state.requests.map((r) => [r.path, r.idempotencyKey, r.reply])).toEqual([
      ["/emails/batch", "notice/1/batch/0", "ok"],
      ["/emails/batch", "notice/1/batch/0", "replayed"],
    ]);
    expect(state.delivered).toHaveLength(3);
  });

  it("a batch carries each email's bodies exactly as given, whatever characters they hold", async () => {
    const { transport, fake } = setup();
    // More emails than one serialising slice, with what JSON must escape or keep as it is.
    const tricky = [
      '"quoted" \\ back\\slash',
      "</script>\u2028\u2029",
      "æøå ÆØÅ 漢字 😀",
      "\ud800 lone",
      "tab\tnew\nline",
    ];
    const batch = Array.from({ length: 23 }, (_, i) => ({
      ...message(`p${i}@example.com`),
      html: `<p>${tricky[i % tricky.length]} ${i}</p>`,
      text: `${tricky[(i + 2) % tricky.length]} ${i}`,
    }));
    expect((await transport.send(batch, { idempotencyKey: "notice/1/batch/exact" })).outcome).toBe("sent");
    const [request] = (await fake.state()).requests;
    const sent = request?.body as { to: string[]; html: string; text: string }[];
    expect(sent.map((e) => [e.to[0], e.html, e.text])).toEqual(batch.map((e) => [e.to, e.html, e.text]));
  });

  it("429 → failed, retryable, with the provider's retry-after in seconds", async () => {
    const { transport, fake } = setup();
    await fake.enqueue({ kind: "rate-limit", retryAfterSeconds: 7 });
    const result = await transport.send([message("busy@example.com")]);
    expect(result).toMatchObject({ outcome: "failed", status: 429, retryable: true, retryAfterSeconds: 7 });
    expect((await fake.state()).delivered).toHaveLength(0);
    // The next attempt goes through.
    expect((await transport.send([message("busy@example.com")])).outcome).toBe("sent");
  });

  it("4xx (validation) → failed and not retryable", async () => {
    const { transport, fake } = setup();
    await fake.enqueue({
      kind: "status",
      status: 422,
      body: { statusCode: 422, name: "validation_error", message: "Invalid `to` field." },
    });
    const result = await transport.send([message("bad@example.com")]);
    expect(result).toMatchObject({ outcome: "failed", status: 422, retryable: false });
    expect(result.outcome === "failed" && result.message).toContain("validation_error");
  });

  it("403 with a wrong API key → failed and not retryable", async () => {
    const { transport, fake } = setup();
    await fake.enqueue({
      kind: "status",
      status: 403,
      body: { statusCode: 403, name: "invalid_api_key", message: "API key is invalid" },
    });
    expect(await transport.send([message("x@example.com")])).toMatchObject({
      outcome: "failed",
      status: 403,
      retryable: false,
    });
  });

  it("5xx → failed and retryable, also when the body is not JSON", async () => {
    const { transport, fake } = setup();
    await fake.enqueue({ kind: "status", status: 500 }, { kind: "garbage", status: 502 });
    expect(await transport.send([message("x@example.com")])).toMatchObject({
      outcome: "failed",
      status: 500,
      retryable: true,
    });
    expect(await transport.send([message("x@example.com")])).toMatchObject({
      outcome: "failed",
      status: 502,
      retryable: true,
    });
  });

  it("a dropped connection → outcome unknown (it may have been sent)", async () => {
    const { transport, fake } = setup();
    await fake.enqueue({ kind: "drop" });
    const result = await transport.send([message("x@example.com")]);
    expect(result.outcome).toBe("unknown");
  });

  it("no answer within the timeout → outcome unknown", async () => {
    const { transport, fake } = setup(300);
    await fake.enqueue({ kind: "hang" });
    expect((await transport.send([message("x@example.com")])).outcome).toBe("unknown");
  });

  it("a lost answer retried with the same Idempotency-Key delivers exactly once", async () => {
    const { transport, fake } = setup();
    await fake.enqueue({ kind: "deliver-then-drop" });
    const batch = [message("a@example.com"), message("b@example.com")];
    expect((await transport.send(batch, { idempotencyKey: "k-lost" })).outcome).toBe("unknown");
    expect((await transport.send(batch, { idempotencyKey: "k-lost" })).outcome).toBe("sent");
    expect((await fake.state()).delivered).toHaveLength(2);
  });

  it("serialises the body before the send slot is booked, calls only once the gate lets it out, inside its slot, and records the departure once handed over", async () => {
    const { transport, fake } = setup();
    // Virtual time (no timed assertion): serialising moves the clock 2 s per email, and the first wait for a slot
    // oversleeps by 300 ms (a blocked event loop), so that slot is missed.
    let now = 1_000_000;
    const events: string[] = [];
    let departedAt = 0;
    const book = memorySlotBook();
    const slots: number[] = [];
    const recording: SlotBook = {
      async book(notBeforeMs, rule) {
        const slot = await book.book(notBeforeMs, rule);
        slots.push(slot);
        events.push("booked");
        return slot;
      },
      departed: (slotMs, atMs) => {
        events.push("departed");
        departedAt = atMs;
        return book.departed(slotMs, atMs);
      },
      release: (slotMs) => book.release(slotMs),
      forget: (beforeMs) => book.forget(beforeMs),
    };
    let sleeps = 0;
    const limiter = slotLimiter(recording, 2, {
      clock: () => now,
      sleep: async (ms) => {
        now += ms + (sleeps++ === 0 ? 300 : 0);
      },
    });
    const slow = (to: string): OutgoingEmail => {
      const plain = message(to).headers;
      const headers = {
        ...plain,
        toJSON() {
          events.push("serialised");
          now += 2_000;
          return plain;
        },
      };
      return { ...message(to), headers: headers as unknown as Record<string, string> };
    };
    let leftAt = 0;
    let requestsAtGate = -1;
    // The call is handed over where the SDK calls `fetch`; the thread is then blocked for 25 ms before it is back in
    // its event loop, which is when the request is written.
    const realFetch = globalThis.fetch;
    globalThis.fetch = ((...args: Parameters<typeof fetch>) => {
      const answer = realFetch(...args);
      // The SDK's call; the test's own look at the fake's state is not counted.
      if (String(args[0] instanceof Request ? args[0].url : args[0]).includes("/emails")) {
        events.push("fetch");
        now += 25;
      }
      return answer;
    }) as typeof fetch;
    const result = await transport
      .send(["a@example.com", "b@example.com", "c@example.com"].map(slow), {
        idempotencyKey: "notice/1/batch/gated",
        async gate() {
          const departed = await limiter.acquire();
          leftAt = now;
          events.push("gate");
          requestsAtGate = (await fake.state()).requests.length;
          return departed;
        },
      })
      .finally(() => {
        globalThis.fetch = realFetch;
      });
    expect(result.outcome).toBe("sent");
    // The departure was scheduled for the turn after `fetch`, before the answer came: a timer set now runs after it.
    await new Promise((resolve) => setTimeout(resolve, 0));
    // Serialised first; the missed slot given up and another booked; then the call, and its departure once handed
    // over, on the clock after the blocked thread.
    expect(events).toEqual(["serialised", "serialised", "serialised", "booked", "booked", "gate", "fetch", "departed"]);
    expect(departedAt).toBe(leftAt + 25);
    expect(limiter.late()).toBe(1);
    const slot = slots.at(-1) ?? 0;
    expect(leftAt).toBeGreaterThanOrEqual(slot);
    expect(leftAt - slot).toBeLessThanOrEqual(SLOT_LATENESS_MS);
    // Nothing left before the gate opened, and exactly one call after.
    expect(requestsAtGate).toBe(0);
    expect((await fake.state()).requests.map((r) => r.reply)).toEqual(["ok"]);
  });

  it(`refuses more than ${RESEND_BATCH_LIMIT} emails in one call before touching the network`, async () => {
    const { transport, fake } = setup();
    const tooMany = Array.from({ length: RESEND_BATCH_LIMIT + 1 }, (_, i) => message(`n${i}@example.com`));
    await expect(transport.send(tooMany)).rejects.toThrow(RangeError);
    expect((await fake.state()).requests).toHaveLength(0);
  });

  it("sign-up with EMAIL_TRANSPORT=resend sends the confirmation through Resend, and the dev outbox does not exist", async () => {
    const { testEnv, fake } = setup();
    const res = await call(
      "/api/subscriptions",
      json({ email: "via-resend@example.com", locale: "en" }, { "CF-Connecting-IP": "203.0.113.50" }),
      testEnv,
    );
    expect(res.status).toBe(202);
    const state = await fake.state();
    expect(state.delivered).toHaveLength(1);
    expect(state.delivered[0]?.to).toEqual(["via-resend@example.com"]);
    expect(state.delivered[0]?.subject).toMatch(/Confirm your subscription/);
    expect(state.delivered[0]?.headers?.["List-Unsubscribe-Post"]).toBe("List-Unsubscribe=One-Click");
    expect((await call("/api/dev/outbox", {}, testEnv)).status).toBe(404);
  });

  it("a Resend failure during sign-up does not change the 202 answer", async () => {
    const { testEnv, fake } = setup();
    await fake.enqueue({ kind: "status", status: 500 });
    const res = await call(
      "/api/subscriptions",
      json({ email: "resend-down@example.com" }, { "CF-Connecting-IP": "203.0.113.51" }),
      testEnv,
    );
    expect(res.status).toBe(202);
    expect((await fake.state()).requests).toHaveLength(1);
  });
});
