/**
 * Hostile text stays text: what subscribers type, and what a retry replays, cannot become an email header, a
 * spreadsheet formula or a leaked token.
 * - A line break in an objection's organisation is refused at the edge (422 naming the field); the email layer turns
 *   any CR/LF left in a subject or header into a space.
 * - A subscriber address that starts like a formula (`=2+5-x@example.com` is valid) is written into deliveries.csv
 *   as text.
 * - The development outbox, which lists every token, answers only on a loopback PUBLIC_BASE_URL.
 * - Rotating ADMIN_TOKEN between a batch's first attempt and its retry changes nothing the provider sees.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { resendAccount } from "../../testing/resend-control.ts";
import { emailTransport } from "../../worker/email/transport.ts";
import { publish } from "../../worker/notices/publish.ts";
import { call, json, LOCAL_DEV, outbox, resetTables, subscribe, tokenFrom } from "./helpers.ts";
import { assetsServing, capturingQueue, deliver, documents, drain, resetNoticeTables } from "./notices-helpers.ts";

const { base, changed } = await documents();
const fake = resendAccount(env.RESEND_BASE_URL, "re_hostile_text");
const sendVia = { EMAIL_TRANSPORT: "resend", RESEND_API_KEY: fake.apiKey, RESEND_MAX_RPS: "50" } as Partial<Env>;
const admin = { Authorization: `Bearer ${env.ADMIN_TOKEN}` };

const FORMULA = "=2+5-x@example.com";
const PLAIN = "dpo@customer.example";

async function signUpAndConfirm(email: string): Promise<void> {
  expect((await subscribe({ email, locale: "en" })).status).toBe(202);
  const [confirmation] = await outbox(email);
  if (!confirmation) throw new Error(`no confirmation email for ${email}`);
  const res = await call(
    "/api/subscriptions/confirm",
    json({ token: tokenFrom(confirmation, "/subscription/confirm") }),
  );
  expect(res.status).toBe(200);
}

/** The manage token in the notice the fake provider delivered to `address`. */
async function noticeToken(address: string): Promise<string> {
  const mail = (await fake.state()).delivered.find((d) => d.to[0] === address);
  const match = /\/subscription\/object\/2\?token=([A-Za-z0-9_-]+)/.exec(mail?.text ?? "");
  if (!match?.[1]) throw new Error(`no objection link in the notice to ${address}`);
  return match[1];
}

describe("a published notice with hostile subscribers", () => {
  beforeAll(async () => {
    await resetTables();
    await resetNoticeTables();
    await fake.reset();
    await signUpAndConfirm(FORMULA);
    await signUpAndConfirm(PLAIN);
    const { queue, sent } = capturingQueue();
    const bindings = { ASSETS: assetsServing(base), NOTICE_QUEUE: queue } as Partial<Env>;
    expect((await call("/api/admin/publish", { method: "POST", headers: admin }, bindings)).status).toBe(201);
    bindings.ASSETS = assetsServing(changed);
    expect((await call("/api/admin/publish", { method: "POST", headers: admin }, bindings)).status).toBe(201);
    await drain(sent, sendVia);
    expect((await fake.state()).delivered).toHaveLength(2);
  });

  it("deliveries.csv writes an address that starts like a formula as text (OWASP: leading single quote)", async () => {
    const res = await call("/api/admin/publications/2/deliveries.csv", { headers: admin });
    expect(res.status).toBe(200);
    const lines = (await res.text()).trim().split("\n");
    const formulaRow = lines.find((l) => l.includes("x@example.com"));
    expect(formulaRow?.split(",")[3]).toBe(`'${FORMULA}`);
    expect(lines.find((l) => l.includes(PLAIN))?.split(",")[3]).toBe(PLAIN);
    for (const line of lines) for (const cell of line.split(",")) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
  });

  it.each([
    ["CR/LF", "Evil Ltd\r\nBcc: everyone@example.com"],
    ["a bare LF", "Evil Ltd\nX-Injected: 1"],
    ["a trailing CR/LF", "Evil Ltd\r\n"],
    ["a tab", "Evil\tLtd"],
    ["DEL", "Evil\u007fLtd"],
    ["a NUL", "Evil\u0000Ltd"],
    ["U+2028 LINE SEPARATOR", "Evil\u2028Ltd"],
    ["U+2029 PARAGRAPH SEPARATOR", "Evil\u2029Ltd"],
  ])(
    "an organisation with %s is refused with 422 naming the field; nothing recorded or mailed",
    async (_, organisation) => {
      const token = await noticeToken(PLAIN);
      const mailsBefore = (await outbox()).length;
      const res = await call(
        "/api/notices/2/objections",
        json({ organisation, reason: "We object." }, { Authorization: `Bearer ${token}` }),
      );
      expect(res.status).toBe(422);
      expect(res.headers.get("content-type")).toContain("application/problem+json");
      const problem = (await res.json()) as {
        code: string;
        detail: string;
        errors: { path: string; message: string }[];
      };
      expect(problem.code).toBe("invalid_input");
      expect(problem.errors).toEqual([
        { path: "organisation", message: "must be one line without control characters or line breaks" },
      ]);
      expect(problem.detail).toMatch(/^organisation: /);
      expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM objections").first("n")).toBe(0);
      expect((await outbox()).length).toBe(mailsBefore);
    },
  );

  it("a reason keeps its line breaks and tabs but refuses other control characters", async () => {
    const token = await noticeToken(PLAIN);
    const auth = { Authorization: `Bearer ${token}` };
    const refused = await call(
      "/api/notices/2/objections",
      json({ organisation: "Customer", reason: "a\u0007b" }, auth),
    );
    expect(refused.status).toBe(422);
    expect(((await refused.json()) as { errors: { path: string }[] }).errors.map((e) => e.path)).toEqual(["reason"]);
    const accepted = await call(
      "/api/notices/2/objections",
      json({ organisation: "Customer A/S", reason: "First point.\r\n\r\n\tSecond point." }, auth),
    );
    expect(accepted.status).toBe(201);
    const [alert] = await outbox(env.VENDOR_ALERT_EMAIL);
    expect(alert?.subject).toContain("Customer A/S");
    expect(alert?.text).toContain("Second point.");
  });
});

describe("the email layer (backstop)", () => {
  it("turns CR, LF and other control characters in the recipient, subject and header values into spaces", async () => {
    await resetTables();
    const transport = emailTransport(env);
    const result = await transport.send([
      {
        to: "someone@example.com",
        subject: "Objection from Evil Ltd\r\nBcc: everyone@example.com",
        html: "<p>body\r\nlines stay</p>",
        text: "body\r\nlines stay",
        headers: { "X-Note": "one\ntwo\u2028three", "List-Unsubscribe": "<https://portal.example/u>\r\nX-Evil: 1" },
      },
    ]);
    expect(result.outcome).toBe("sent");
    const [stored] = await outbox();
    expect(stored?.subject).toBe("Objection from Evil Ltd Bcc: everyone@example.com");
    expect(stored?.headers).toEqual({
      "X-Note": "one two three",
      "List-Unsubscribe": "<https://portal.example/u> X-Evil: 1",
    });
    // Bodies are not headers: their line breaks are kept.
    expect(stored?.text).toBe("body\r\nlines stay");
  });
});

describe("the development outbox", () => {
  it("lists what was sent on a loopback PUBLIC_BASE_URL (localhost, 127.0.0.0/8, [::1])", async () => {
    for (const url of ["http://127.0.0.1:8787", "http://localhost:4321", "http://127.0.10.3", "http://[::1]:8787"]) {
      const res = await call("/api/dev/outbox", {}, { ...LOCAL_DEV, PUBLIC_BASE_URL: url });
      expect(res.status, url).toBe(200);
    }
  });

  it("is a 404 problem on a public PUBLIC_BASE_URL even with EMAIL_TRANSPORT=outbox (a deploy that forgot the variable)", async () => {
    for (const url of [
      "https://portal.example",
      "https://subprocessors.example.com",
      "http://127.0.0.1.nip.io",
      "http://localhost.evil.example",
      "http://10.0.0.1",
      "not a url",
    ]) {
      for (const method of ["GET", "DELETE"]) {
        const res = await call("/api/dev/outbox", { method }, { EMAIL_TRANSPORT: "outbox", PUBLIC_BASE_URL: url });
        expect(res.status, `${method} ${url}`).toBe(404);
        expect(res.headers.get("content-type")).toContain("application/problem+json");
        expect(((await res.json()) as { code: string }).code).toBe("not_found");
      }
    }
  });

  it("is a 404 with the resend transport, even on loopback", async () => {
    const res = await call("/api/dev/outbox", {}, { ...LOCAL_DEV, EMAIL_TRANSPORT: "resend" });
    expect(res.status).toBe(404);
  });
});

describe("notice manage tokens have a key of their own", () => {
  it("rotating ADMIN_TOKEN between a batch's claim and its retry sends the same body: replayed, not 409, not stuck", async () => {
    await resetTables();
    await resetNoticeTables();
    const account = resendAccount(env.RESEND_BASE_URL, "re_hostile_rotation");
    await account.reset();
    await signUpAndConfirm(PLAIN);
    const { queue, sent } = capturingQueue();
    const now = new Date("2026-11-23T09:00:00Z");
    await publish({ db: env.DB, queue, document: async () => base, now });
    expect((await publish({ db: env.DB, queue, document: async () => changed, now })).status).toBe("published");
    const [message] = sent;
    if (!message) throw new Error("nothing was queued");

    // First attempt: the provider accepts the batch, but the answer is lost, and D1 fails as the consumer books a send
    // slot for each in-place retry: none of them leaves, and the batch goes back to the queue still claimed.
    await account.enqueue({ kind: "deliver-then-drop" });
    const via = { EMAIL_TRANSPORT: "resend", RESEND_API_KEY: account.apiKey, RESEND_MAX_RPS: "50" } as Partial<Env>;
    let bookings = 0;
    const dying = new Proxy(env.DB, {
      get(target, prop) {
        if (prop === "prepare") {
          return (sql: string) => {
            if (sql.startsWith("INSERT INTO send_log") && ++bookings > 1) throw new Error("D1_ERROR: unavailable");
            return target.prepare(sql);
          };
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const first = await deliver(
      [{ id: "m1", body: message, attempts: 1 }],
      { ...via, DB: dying },
      {
        now: () => new Date("2026-11-23T09:30:00Z"),
      },
    );
    expect(first.outcomes.get("m1")).toBe("retry");

    // The admin token is rotated before the retry.
    const rotated = { ...via, ADMIN_TOKEN: "rotated-admin-token-fedcba9876543210" } as Partial<Env>;
    // After the send lease, so nothing but the key decides what the retry may send.
    const retry = await deliver([{ id: "m1", body: message, attempts: 2 }], rotated, {
      now: () => new Date("2026-11-23T09:34:00Z"),
    });
    expect(retry.outcomes.get("m1")).toBe("ack");

    const state = await account.state();
    expect(state.requests.map((r) => r.reply)).toEqual(["deliver-then-drop", "replayed"]);
    expect(state.requests[1]?.body).toEqual(state.requests[0]?.body);
    expect(state.delivered.map((d) => d.to[0])).toEqual([PLAIN]);
    const row = await env.DB.prepare("SELECT status FROM deliveries WHERE publication_id = 2").first("status");
    expect(row).toBe("sent");

    // The link in the email that went out still opens the subscriber's objection form.
    const match = /\/subscription\/object\/2\?token=([A-Za-z0-9_-]+)/.exec(state.delivered[0]?.text ?? "");
    const page = await call(`/en/subscription/object/2?token=${match?.[1]}`, {}, rotated);
    expect(page.status).toBe(200);
  });
});
