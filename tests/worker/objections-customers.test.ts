/**
 * A customer objects through its contact's token (DPA 5.3): the objection names announced changes, is signed as a
 * JWS that verifies with a standard JOSE library against the served JWKS, is accepted late but marked so; staff move
 * it through the lifecycle via the API (DPA 5.4), every step recorded and mailed to each active contact.
 */
import { env } from "cloudflare:workers";
import { compactVerify, createLocalJWKSet, type JSONWebKeySet } from "jose";
import { beforeEach, describe, expect, it } from "vitest";
import { generateReceiptKey, importReceiptKey, objectionReceipt, signReceipt } from "../../domain/objection-receipt.ts";
import {
  ADDED,
  addCustomer,
  addDelivery,
  contactToken,
  dayFromNow,
  EARLIER,
  publishNotice,
  REMOVED,
  resetCustomerTables,
} from "./customer-fixtures.ts";
import { browserForm, call, json, outbox } from "./helpers.ts";

const admin = { Authorization: `Bearer ${env.ADMIN_TOKEN}` };
const DPO = "dpo@acme.example";
const CFO = "cfo@acme.example";
const GONE = "former@acme.example";

/** ACME (UK) with two active contacts (one Danish) and an unsubscribed one; its notice was sent to the DPO. */
async function acme(deadline: string): Promise<string> {
  const ids = await addCustomer({
    externalId: "ACME-1",
    name: "Acme Ltd",
    contacts: [{ email: DPO }, { email: CFO, locale: "da" }, { email: GONE, status: "unsubscribed" }],
  });
  const dpo = ids.get(DPO) as string;
  await addDelivery({ recipientId: dpo, customerId: "ACME-1", email: DPO, deadline });
  await addDelivery({ recipientId: ids.get(CFO) as string, customerId: "ACME-1", email: CFO, deadline, locale: "da" });
  return contactToken(dpo);
}

function object(token: string, body: Record<string, unknown>) {
  return call("/api/notices/2/objections", json(body, { Authorization: `Bearer ${token}` }));
}

async function jwks(): Promise<JSONWebKeySet> {
  const res = await call("/.well-known/jwks.json");
  expect(res.status).toBe(200);
  return (await res.json()) as JSONWebKeySet;
}

beforeEach(async () => {
  await resetCustomerTables();
  await publishNotice();
});

describe("a customer's objection", () => {
  it("names the changes, answers 201 with a receipt that verifies with jose against /.well-known/jwks.json", async () => {
    const token = await acme(dayFromNow(10));
    const res = await object(token, { changes: [REMOVED.id, ADDED.id], reason: "We cannot accept a US helpdesk." });
    expect(res.status).toBe(201);
    const body = (await res.json()) as {
      id: string;
      customer: string;
      changes: { id: string; effective: string }[];
      late: boolean;
      receipt: string;
      deadline: string;
    };
    expect(body.customer).toBe("ACME-1");
    // In the notice's order, whatever order the form sent.
    expect(body.changes).toEqual([
      { id: ADDED.id, effective: ADDED.effective },
      { id: REMOVED.id, effective: REMOVED.effective },
    ]);
    expect(body.late).toBe(false);

    const keys = await jwks();
    expect(keys.keys).toHaveLength(1);
    expect(keys.keys[0]).not.toHaveProperty("d");
    const { payload, protectedHeader } = await compactVerify(body.receipt, createLocalJWKSet(keys));
    expect(protectedHeader.alg).toBe("EdDSA");
    expect(JSON.parse(new TextDecoder().decode(payload))).toEqual({
      publication: "2",
      fingerprint: "f2",
      customer: "ACME-1",
      changes: [ADDED.id, REMOVED.id],
      receivedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      deadline: body.deadline,
      onTime: true,
    });
    // One changed character of the payload and the signature no longer holds.
    const [h, p, s] = body.receipt.split(".") as [string, string, string];
    const forged = `${h}.${p.slice(0, -2)}${p.slice(-2) === "fQ" ? "fA" : "fQ"}.${s}`;
    await expect(compactVerify(forged, createLocalJWKSet(keys))).rejects.toThrow();

    const row = await env.DB.prepare("SELECT customer_id, changes, late, receipt, state FROM objections").first();
    expect(row).toEqual({
      customer_id: "ACME-1",
      changes: JSON.stringify([ADDED.id, REMOVED.id]),
      late: 0,
      receipt: body.receipt,
      state: "received",
    });
  });

  it("mails the contact a receipt naming the changes, the time in its language and the JWS; the vendor an alert", async () => {
    const token = await acme(dayFromNow(10));
    const res = await object(token, { changes: [ADDED.id], reason: "No.", locale: "da" });
    const { receipt } = (await res.json()) as { receipt: string };
    const [mail] = await outbox(DPO);
    expect(mail?.subject).toBe("Kvittering: MOCH A/S har modtaget jeres indsigelse");
    expect(mail?.text).toContain(`${ADDED.summary.da} (træder i kraft 4. januar 2027; ${ADDED.id})`);
    expect(mail?.text).toContain("(dansk tid)");
    expect(mail?.text).toContain(receipt);
    expect(mail?.text).toContain("https://portal.example/.well-known/jwks.json");
    expect(mail?.text).not.toContain(REMOVED.id);
    const [alert] = await outbox(env.VENDOR_ALERT_EMAIL);
    expect(alert?.subject).toBe("Indsigelse / objection: Acme Ltd (ACME-1, 2)");
    expect(alert?.text).toContain(`Contact / kontakt: ${DPO}`);
    expect(alert?.text).toContain(`${ADDED.summary.en} (takes effect on 4 January 2027; ${ADDED.id})`);
  });

  it("after the deadline is still accepted (201), marked late, and the receipt says so", async () => {
    const token = await acme(dayFromNow(-3));
    const res = await object(token, { changes: [ADDED.id], reason: "Sorry, late." });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { late: boolean; receipt: string; detail: string };
    expect(body.late).toBe(true);
    expect(body.detail).toContain("marked late");
    const { payload } = await compactVerify(body.receipt, createLocalJWKSet(await jwks()));
    expect(JSON.parse(new TextDecoder().decode(payload)).onTime).toBe(false);
    expect(await env.DB.prepare("SELECT late FROM objections").first("late")).toBe(1);
    const [mail] = await outbox(DPO);
    expect(mail?.subject).toBe("Receipt: MOCH A/S has received your objection (after the deadline)");
    expect(mail?.text).toContain("The objection arrived after the deadline");
    const [event] = (await env.DB.prepare("SELECT state, actor, note FROM objection_events").all()).results;
    expect(event).toMatchObject({ state: "received", actor: "customer" });
    expect(String(event?.note)).toContain("marked late");
  });

  it("honours the later deadline proven by delivery over the one the email stated", async () => {
    const ids = await addCustomer({
      externalId: "LATE-MAIL",
      name: "Late Mail Ltd",
      contacts: [{ email: "a@late.example" }],
    });
    const id = ids.get("a@late.example") as string;
    await addDelivery({
      recipientId: id,
      customerId: "LATE-MAIL",
      email: "a@late.example",
      deadline: dayFromNow(-2),
      honouredDeadline: dayFromNow(2),
    });
    const res = await object(await contactToken(id), { changes: [ADDED.id], reason: "On time by receipt." });
    expect(await res.json()).toMatchObject({ late: false, deadline: dayFromNow(2) });
  });

  it("refuses a change the notice did not announce, or none, with 422 naming the field; stores nothing", async () => {
    const token = await acme(dayFromNow(10));
    for (const changes of [[EARLIER.id], ["no-such-change", ADDED.id], []]) {
      const res = await object(token, { changes, reason: "x" });
      expect(res.status).toBe(422);
      expect(res.headers.get("content-type")).toContain("application/problem+json");
      const problem = (await res.json()) as { errors: { path: string; message: string }[] };
      expect(problem.errors[0]?.path).toBe("changes");
      if (changes.length > 0) expect(problem.errors[0]?.message).toContain(changes[0]);
    }
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM objections").first("n")).toBe(0);
  });

  it("answers 404 for a customer the notice was not sent to, and 401 for an unknown token", async () => {
    const ids = await addCustomer({ externalId: "NEW-1", name: "New Ltd", contacts: [{ email: "x@new.example" }] });
    const res = await object(await contactToken(ids.get("x@new.example") as string), {
      changes: [ADDED.id],
      reason: "x",
    });
    expect(res.status).toBe(404);
    expect((await object("A".repeat(43), { changes: [ADDED.id], reason: "x" })).status).toBe(401);
  });

  it("the form lists the notice's changes with their effective dates as checkboxes and posts without JavaScript", async () => {
    const token = await acme(dayFromNow(10));
    const page = await call(`/en/subscription/object/2?token=${token}`);
    expect(page.status).toBe(200);
    const text = await page.text();
    expect(text).toContain("on behalf of Acme Ltd");
    expect(text).toContain(`name="changes" value="${ADDED.id}"`);
    expect(text).toContain(`${ADDED.summary.en} (takes effect on 4 January 2027)`);
    expect(text).toContain(`value="${REMOVED.id}"`);
    expect(text).not.toContain(EARLIER.id);
    expect(text).not.toContain('name="organisation"');
    expect(text).not.toContain("<script");

    const res = await call(
      "/api/notices/2/objections",
      browserForm([
        ["token", token],
        ["locale", "en"],
        ["changes", REMOVED.id],
        ["reason", "Posted from the form."],
      ]),
    );
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/en/subscription/objected?notice=2");
    expect(await env.DB.prepare("SELECT changes FROM objections").first("changes")).toBe(JSON.stringify([REMOVED.id]));
  });
});

async function objectionId(): Promise<string> {
  const token = await acme(dayFromNow(10));
  const res = await object(token, { changes: [ADDED.id], reason: "Please propose something else." });
  return ((await res.json()) as { id: string }).id;
}

function step(id: string, body: Record<string, unknown>, headers: Record<string, string> = admin) {
  return call(`/api/admin/objections/${id}/events`, json(body, headers));
}

describe("staff move an objection: received → alternative-proposed → resolved", () => {
  it("records each step with time and actor and mails every active contact in its language", async () => {
    const id = await objectionId();
    await call("/api/dev/outbox", { method: "DELETE" });
    await env.DB.prepare("DELETE FROM outbox").run();

    const proposed = await step(id, { state: "alternative-proposed", note: "EU helpdesk instead.", actor: "Mette" });
    expect(proposed.status).toBe(201);
    expect(await proposed.json()).toMatchObject({ state: "alternative-proposed", outcome: null });
    const [toCfo] = await outbox(CFO);
    expect(toCfo?.subject).toBe("Jeres indsigelse til MOCH A/S: alternativ foreslået");
    expect(toCfo?.text).toContain("EU helpdesk instead.");
    expect(toCfo?.text).toContain(ADDED.summary.da);
    expect((await outbox(DPO))[0]?.subject).toBe("Your objection to MOCH A/S: alternative proposed");
    expect(await outbox(GONE)).toHaveLength(0);

    const resolved = await step(id, { state: "resolved", outcome: "alternative-accepted", note: "Accepted by email." });
    expect(resolved.status).toBe(201);
    expect((await outbox(DPO))[0]?.subject).toBe("Your objection to MOCH A/S: resolved: the alternative was accepted");

    const view = await call(`/api/admin/objections/${id}?locale=da`, { headers: admin });
    expect(view.status).toBe(200);
    const detail = (await view.json()) as {
      state: string;
      outcome: string;
      changes: { id: string; effectiveText: string; summaryText: string }[];
      receivedAtText: string;
      events: { state: string; outcome: string | null; actor: string; note: string; createdAt: string }[];
    };
    expect(detail).toMatchObject({ state: "resolved", outcome: "alternative-accepted" });
    expect(detail.changes).toEqual([
      expect.objectContaining({ id: ADDED.id, effectiveText: "4. januar 2027", summaryText: ADDED.summary.da }),
    ]);
    expect(detail.receivedAtText).toMatch(/\(dansk tid\)$/);
    expect(detail.events.map((e) => [e.state, e.outcome, e.actor])).toEqual([
      ["received", null, "customer"],
      ["alternative-proposed", null, "Mette"],
      ["resolved", "alternative-accepted", "staff"],
    ]);
    for (const e of detail.events) expect(Date.parse(e.createdAt)).not.toBeNaN();

    const list = await call("/api/admin/objections?customer=ACME-1", { headers: admin });
    expect(((await list.json()) as { objections: { id: string }[] }).objections.map((o) => o.id)).toEqual([id]);
  });

  it("refuses an impossible step with 409 problem+json naming the reason, and records nothing", async () => {
    const id = await objectionId();
    const cases: [Record<string, unknown>, string][] = [
      [{ state: "resolved", outcome: "alternative-accepted", note: "n" }, "no-alternative-proposed"],
      [{ state: "resolved", note: "n" }, "outcome-required"],
      [{ state: "alternative-proposed", outcome: "withdrawn", note: "n" }, "outcome-not-allowed"],
      [{ state: "received", note: "n" }, "not-a-step"],
    ];
    for (const [body, reason] of cases) {
      const res = await step(id, body);
      expect(res.status).toBe(409);
      expect(res.headers.get("content-type")).toContain("application/problem+json");
      const problem = (await res.json()) as { detail: string; errors: { message: string }[] };
      expect(problem.detail.startsWith(`${reason}:`)).toBe(true);
      expect(problem.errors[0]?.message).toBe(reason);
    }
    expect((await step(id, { state: "resolved", outcome: "terminated", note: "Ends." })).status).toBe(201);
    const again = await step(id, { state: "alternative-proposed", note: "Too late." });
    expect(again.status).toBe(409);
    expect(((await again.json()) as { detail: string }).detail).toMatch(/^already-resolved:/);
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM objection_events").first("n")).toBe(2);
  });

  it("refuses without the admin token (401), a malformed step (422) and an unknown objection (404)", async () => {
    const id = await objectionId();
    expect((await step(id, { state: "resolved", outcome: "withdrawn", note: "n" }, {})).status).toBe(401);
    expect((await call("/api/admin/objections", {})).status).toBe(401);
    expect((await step(id, { state: "closed", note: "n" })).status).toBe(422);
    expect((await step(id, { state: "resolved", outcome: "withdrawn", note: "  " })).status).toBe(422);
    expect((await step("no-such-id", { state: "resolved", outcome: "withdrawn", note: "n" })).status).toBe(404);
  });
});

describe("GET /.well-known/jwks.json", () => {
  it("serves the public half of the receipt key, cacheable, and never the private part", async () => {
    const res = await call("/.well-known/jwks.json");
    expect(res.headers.get("cache-control")).toContain("public");
    const { keys } = (await res.json()) as { keys: Record<string, string>[] };
    expect(keys[0]).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA", use: "sig" });
    expect(JSON.parse(env.RECEIPT_SIGNING_KEY).x).toBe(keys[0]?.x);
    expect(JSON.stringify(keys)).not.toContain(JSON.parse(env.RECEIPT_SIGNING_KEY).d);
  });

  it("answers 503 problem+json, not a stack trace, when the key is missing", async () => {
    const res = await call("/.well-known/jwks.json", {}, { RECEIPT_SIGNING_KEY: "" } as Partial<Env>);
    expect(res.status).toBe(503);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
  });
});

describe("rotating the receipt key: receipts signed before still verify", () => {
  /** The key a rotation retired: its public half goes into RECEIPT_RETIRED_PUBLIC_KEYS. */
  async function retiredKey() {
    const key = await importReceiptKey(await generateReceiptKey());
    const { kty, crv, x } = key.publicJwk;
    return { key, listed: JSON.stringify([{ kty, crv, x }]) };
  }

  it("the JWKS publishes the current key first, then the retired ones; jose verifies receipts of both", async () => {
    const old = await retiredKey();
    const rotated = { RECEIPT_RETIRED_PUBLIC_KEYS: old.listed } as Partial<Env>;
    const res = await call("/.well-known/jwks.json", {}, rotated);
    expect(res.status).toBe(200);
    const set = (await res.json()) as JSONWebKeySet;
    const current = await importReceiptKey(JSON.parse(env.RECEIPT_SIGNING_KEY));
    expect(set.keys.map((k) => k.kid)).toEqual([current.kid, old.key.kid]);
    expect(set.keys[1]).toEqual(old.key.publicJwk);

    // A receipt given out before the rotation, signed with the retired key.
    const before = objectionReceipt({
      publication: { id: "2", fingerprint: "f2" },
      customer: "ACME-1",
      changes: [ADDED.id],
      receivedAt: new Date("2026-11-05T10:00:00.000Z"),
      deadline: "2026-11-16",
    });
    const oldJws = await signReceipt(before, old.key);
    const verified = await compactVerify(oldJws, createLocalJWKSet(set), { algorithms: ["EdDSA"] });
    expect(verified.protectedHeader.kid).toBe(old.key.kid);
    expect(JSON.parse(new TextDecoder().decode(verified.payload))).toEqual(before);
    // Without the retired list it would not verify: that is what the list is for.
    await expect(compactVerify(oldJws, createLocalJWKSet(await jwks()))).rejects.toThrow();

    // A receipt given out after it names the current key in its header, and verifies too.
    const token = await acme(dayFromNow(10));
    const objected = await call(
      "/api/notices/2/objections",
      json({ changes: [ADDED.id], reason: "Not yet assessed." }, { Authorization: `Bearer ${token}` }),
      rotated,
    );
    const { receipt } = (await objected.json()) as { receipt: string };
    const fresh = await compactVerify(receipt, createLocalJWKSet(set), { algorithms: ["EdDSA"] });
    expect(fresh.protectedHeader.kid).toBe(current.kid);
  });

  it("lists the signing key once while the retired list already names it (the first step of a rotation)", async () => {
    const current = await importReceiptKey(JSON.parse(env.RECEIPT_SIGNING_KEY));
    const { kty, crv, x } = current.publicJwk;
    const res = await call("/.well-known/jwks.json", {}, {
      RECEIPT_RETIRED_PUBLIC_KEYS: JSON.stringify([{ kty, crv, x }]),
    } as Partial<Env>);
    expect(((await res.json()) as JSONWebKeySet).keys.map((k) => k.kid)).toEqual([current.kid]);
  });

  it("answers 503 problem+json for a retired list that is not one, and never publishes a private key", async () => {
    const key = await generateReceiptKey();
    for (const bad of [
      "not json",
      "{}",
      JSON.stringify([key]),
      JSON.stringify([{ kty: "OKP", crv: "Ed25519", x: "abc" }]),
    ]) {
      const res = await call("/.well-known/jwks.json", {}, { RECEIPT_RETIRED_PUBLIC_KEYS: bad } as Partial<Env>);
      expect(res.status, bad).toBe(503);
      expect(res.headers.get("content-type")).toContain("application/problem+json");
      expect(await res.text()).not.toContain(key.d);
    }
  });
});
