/**
 * Webhook endpoints, registration side (README "Webhooks"): a subscriber registers endpoints with the manage token;
 * only https URLs with a public host name pass the SSRF guard (each refusal names its rule); the secret is shown once
 * and never stored in plain text; an endpoint becomes active only after it answered a signed `webhook.test` with a 2xx
 * within the timeout, checked against the local receiver that verifies with the `standardwebhooks` library; a rotated
 * secret keeps signing for 24 hours; another subscriber's endpoint cannot be seen or touched.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, inject, it } from "vitest";
import { webhookReceiver } from "../../testing/webhook-receiver-control.ts";
import { findEndpoint, MAX_ENDPOINTS_PER_SUBSCRIBER } from "../../worker/db/webhook-endpoints.ts";
import { PREVIOUS_SECRET_VALID_MS, signingSecrets } from "../../worker/webhooks/endpoints.ts";
import { openSecret } from "../../worker/webhooks/secret.ts";
import { sendSigned } from "../../worker/webhooks/send.ts";
import { REFUSED_WEBHOOK_URLS } from "../unit/webhook-url-cases.ts";
import { browserForm, call, json, outbox, resetTables, signUpAndConfirm, tokenFrom } from "./helpers.ts";

const base = inject("webhookReceiverUrl");
const PATH = "/api/webhooks/endpoints";
/** An endpoint URL on the local receiver, for tests that need any reachable endpoint (no DNS, no network). */
const sink = (name: string) => webhookReceiver(base, `reg-sink-${name}`).url;

interface EndpointJson {
  id: string;
  url: string;
  status: "pending" | "active" | "disabled";
  secret?: string;
  regions: string[] | null;
  cohort: string | null;
  lastTest: { at: string; httpStatus: number | null; detail: string | null } | null;
  previousSecretValidUntil: string | null;
  deliveries: unknown[];
}

interface ProblemJson {
  status: number;
  code: string;
  detail: string;
  errors?: { path: string; message: string; rule?: string }[];
}

let counter = 0;
/** A confirmed subscriber and its manage token (from the welcome email, as a person gets it). */
async function subscriber(): Promise<{ id: string; token: string }> {
  counter += 1;
  const email = `hooks-${counter}-${Date.now()}@example.org`;
  await signUpAndConfirm(email, { locale: "en" });
  const [welcome] = await outbox(email);
  if (!welcome) throw new Error("no welcome email");
  const id = await env.DB.prepare("SELECT id FROM subscribers WHERE email = ?1").bind(email).first<string>("id");
  return { id: id ?? "", token: tokenFrom(welcome, "/subscription/manage") };
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

function register(token: string, body: Record<string, unknown>, bindings: Partial<Env> = {}) {
  return call(PATH, json(body, bearer(token)), bindings);
}

function post(token: string, path: string, bindings: Partial<Env> = {}) {
  return call(`${PATH}${path}`, { method: "POST", headers: bearer(token) }, bindings);
}

async function list(token: string): Promise<EndpointJson[]> {
  const res = await call(PATH, { headers: bearer(token) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { endpoints: EndpointJson[] }).endpoints;
}

async function attemptsOf(endpointId: string) {
  const { results } = await env.DB.prepare(
    "SELECT event_type, http_status, outcome, error FROM webhook_attempts WHERE endpoint_id = ?1 ORDER BY id",
  )
    .bind(endpointId)
    .all<{ event_type: string; http_status: number | null; outcome: string; error: string | null }>();
  return results;
}

beforeEach(async () => {
  await resetTables();
  await env.DB.batch(
    ["webhook_attempts", "webhook_deliveries", "webhook_endpoints", "publications"].map((t) =>
      env.DB.prepare(`DELETE FROM ${t}`),
    ),
  );
});

describe("the SSRF guard at registration", () => {
  it("refuses every private, local, special-use or malformed URL with a 422 that names the rule", async () => {
    const { token } = await subscriber();
    // Production: no local receiver allowed, and a limit high enough for the whole table.
    const production = { WEBHOOK_ALLOW_LOCAL_HTTP: "", RATE_LIMIT_WEBHOOK_PER_HOUR: "1000" };
    for (const [url, rule] of REFUSED_WEBHOOK_URLS) {
      const res = await register(token, { url }, production);
      expect(res.status, url).toBe(422);
      expect(res.headers.get("Content-Type")).toMatch(/^application\/problem\+json/);
      const problem = (await res.json()) as ProblemJson;
      expect(problem.errors?.[0], url).toMatchObject({ path: "url", rule });
      expect(problem.detail.length).toBeGreaterThan(30);
    }
    // The local receiver's own URL is refused too, without the development switch.
    const local = await register(token, { url: webhookReceiver(base, "reg-prod").url }, production);
    expect(((await local.json()) as ProblemJson).errors?.[0]?.rule).toBe("ip-literal");
    expect(await list(token)).toEqual([]);
  });

  it("refuses an unknown field, a 10 KB URL and a body over the cap, each with a clear 4xx", async () => {
    const { token } = await subscriber();
    const unknown = await register(token, { url: "https://hooks.example.com/a", events: ["all"] });
    expect(unknown.status).toBe(422);
    expect(((await unknown.json()) as ProblemJson).errors).toEqual([
      expect.objectContaining({ path: "events", message: expect.stringMatching(/unrecognized|unknown/i) }),
    ]);
    const long = await register(token, { url: `https://hooks.example.com/?q=${"x".repeat(10 * 1024)}` });
    expect(long.status).toBe(422);
    expect(((await long.json()) as ProblemJson).errors?.[0]).toMatchObject({ path: "url", rule: "too-long" });
    const huge = await register(token, { url: `https://hooks.example.com/?q=${"x".repeat(20 * 1024)}` });
    expect(huge.status).toBe(413);
    const region = await register(token, { url: "https://hooks.example.com/a", regions: ["mars"] });
    expect(((await region.json()) as ProblemJson).errors?.[0]?.path).toBe("regions.0");
    expect(await list(token)).toEqual([]);
  });

  it("answers 401 without a valid manage token, and stores nothing", async () => {
    expect((await call(PATH, json({ url: "https://hooks.example.com/a" }))).status).toBe(401);
    expect((await register("not-a-token-at-all-0123456789", { url: "https://hooks.example.com/a" })).status).toBe(401);
    expect((await call(PATH)).status).toBe(401);
    const { results } = await env.DB.prepare("SELECT id FROM webhook_endpoints").all();
    expect(results).toEqual([]);
  });

  it("refuses an endpoint for a subscription that is no longer active (409 naming the rule), and stores nothing", async () => {
    const sub = await subscriber();
    await env.DB.prepare("UPDATE subscribers SET status = 'unsubscribed' WHERE id = ?1").bind(sub.id).run();
    const res = await register(sub.token, { url: "https://hooks.example.com/a" });
    expect(res.status).toBe(409);
    expect(res.headers.get("Content-Type")).toContain("application/problem+json");
    const problem = (await res.json()) as { errors: { rule: string }[] };
    expect(problem.errors[0]?.rule).toBe("subscription-inactive");
    const { results } = await env.DB.prepare("SELECT id FROM webhook_endpoints").all();
    expect(results).toEqual([]);
  });
});

describe("registration", () => {
  it("answers 201 with the secret once; D1 holds it only sealed, and no listing or export shows it", async () => {
    const me = await subscriber();
    const receiver = webhookReceiver(base, "reg-once");
    await receiver.reset();
    const res = await register(me.token, {
      url: receiver.url,
      regions: ["uk"],
      cohort: "legacy",
      description: "Vendor risk",
    });
    expect(res.status).toBe(201);
    const created = (await res.json()) as EndpointJson;
    expect(created).toMatchObject({ status: "pending", regions: ["uk"], cohort: "legacy", url: receiver.url });
    expect(created.id).toMatch(/^ep_[A-Za-z0-9_-]{22}$/);
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const secret = created.secret ?? "";
    const key = secret.slice("whsec_".length);
    expect(res.headers.get("Location")).toBe(`${PATH}/${created.id}`);

    // Every column of the row, read back: the secret is in none of them, and the sealed value opens to it.
    const row = await env.DB.prepare("SELECT * FROM webhook_endpoints WHERE id = ?1")
      .bind(created.id)
      .first<Record<string, unknown>>();
    for (const value of Object.values(row ?? {})) {
      expect(String(value)).not.toContain(key);
      expect(String(value)).not.toContain(key.slice(0, 16));
    }
    expect(await openSecret(env, created.id, String(row?.secret_sealed))).toBe(secret);

    const listed = JSON.stringify(await list(me.token));
    const exported = await (await call("/api/subscriptions/me", { headers: bearer(me.token) })).text();
    for (const text of [listed, exported]) {
      expect(text).toContain(created.id);
      expect(text).not.toContain(key);
      expect(text).not.toContain("secret_sealed");
      expect(text).not.toMatch(/"secretSealed"|v1\.[A-Za-z0-9_-]{16}\./);
    }
  });

  it("sends the test event right away: an endpoint that answers 2xx is active without a second call", async () => {
    const me = await subscriber();
    const receiver = webhookReceiver(base, "reg-auto");
    await receiver.reset();
    const created = (await (await register(me.token, { url: receiver.url })).json()) as EndpointJson;
    const [endpoint] = await list(me.token);
    expect(endpoint).toMatchObject({ id: created.id, status: "active", lastTest: { httpStatus: 200 } });
    const state = await receiver.state();
    expect(state.calls).toHaveLength(1);
    expect(JSON.parse(state.calls[0]?.body ?? "{}")).toMatchObject({
      type: "webhook.test",
      data: { endpointId: created.id },
    });
    expect(await attemptsOf(created.id)).toEqual([
      { event_type: "webhook.test", http_status: 200, outcome: "delivered", error: null },
    ]);
  });

  it("an endpoint that answers 500, does not answer in time, or cannot verify the signature stays pending", async () => {
    const me = await subscriber();
    const short = { WEBHOOK_TIMEOUT_MS: "300" };
    const failing = webhookReceiver(base, "reg-500");
    const hanging = webhookReceiver(base, "reg-hang");
    const forged = webhookReceiver(base, "reg-forged");
    for (const r of [failing, hanging, forged]) await r.reset();
    await failing.faults({ kind: "status", status: 500 });
    await hanging.faults({ kind: "hang" });
    // This receiver holds some other secret: our signature fails its verification, as a forgery would.
    await forged.setSecrets("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");

    const ids: Record<string, string> = {};
    for (const [name, r] of [
      ["500", failing],
      ["hang", hanging],
      ["forged", forged],
    ] as const) {
      const res = await register(me.token, { url: r.url }, short);
      expect(res.status).toBe(201);
      ids[name] = ((await res.json()) as EndpointJson).id;
    }
    const byId = new Map((await list(me.token)).map((e) => [e.id, e]));
    expect(byId.get(ids["500"] ?? "")).toMatchObject({ status: "pending", lastTest: { httpStatus: 500 } });
    expect(byId.get(ids.hang ?? "")).toMatchObject({
      status: "pending",
      lastTest: { httpStatus: null, detail: "no answer within 0.3 s" },
    });
    expect(byId.get(ids.forged ?? "")).toMatchObject({ status: "pending", lastTest: { httpStatus: 401 } });
    expect((await forged.state()).rejected).toBe(1);
    expect((await attemptsOf(ids["500"] ?? "")).map((a) => a.outcome)).toEqual(["retry"]);
    expect((await attemptsOf(ids.forged ?? "")).map((a) => a.outcome)).toEqual(["final"]);

    // Fixed on their side (the failing one answers 200 now; the other learns the secret): POST …/test activates.
    const tested = await post(me.token, `/${ids["500"]}/test`);
    expect(tested.status).toBe(200);
    expect(await tested.json()).toMatchObject({ id: ids["500"], status: "active", lastTest: { httpStatus: 200 } });
  });

  it("POST …/test sends a signed webhook.test the receiver verifies with the secret, and stores the result", async () => {
    const me = await subscriber();
    const receiver = webhookReceiver(base, "reg-verify");
    await receiver.reset();
    await receiver.faults({ kind: "status", status: 503 });
    const created = (await (await register(me.token, { url: receiver.url })).json()) as EndpointJson;
    expect((await list(me.token))[0]?.status).toBe("pending");
    await receiver.setSecrets(created.secret ?? "");
    const res = await post(me.token, `/${created.id}/test`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "active", lastTest: { httpStatus: 200, detail: "answered 200" } });
    const state = await receiver.state();
    expect(state.calls.map((c) => c.verified)).toEqual([null, true]);
    expect(state.rejected).toBe(0);
    // Two tests, two webhook-ids: a test is a new event, not a retry.
    expect(new Set(state.calls.map((c) => c.id)).size).toBe(2);
    expect((await attemptsOf(created.id)).map((a) => [a.http_status, a.outcome])).toEqual([
      [503, "retry"],
      [200, "delivered"],
    ]);
  });

  it("caps a subscriber at 10 endpoints: the 11th is a 409 that says so, also when two race for the last place", async () => {
    const me = await subscriber();
    const url = (n: number) => sink(`cap-${n}`);
    for (let n = 1; n < MAX_ENDPOINTS_PER_SUBSCRIBER; n++) {
      expect((await register(me.token, { url: url(n) })).status).toBe(201);
    }
    const [a, b] = await Promise.all([register(me.token, { url: url(10) }), register(me.token, { url: url(11) })]);
    expect([a.status, b.status].sort()).toEqual([201, 409]);
    const eleventh = await register(me.token, { url: url(12) });
    expect(eleventh.status).toBe(409);
    const problem = (await eleventh.json()) as ProblemJson;
    expect(problem.detail).toMatch(/10 webhook endpoints.*remove one/);
    expect(problem.errors?.[0]?.rule).toBe("max-endpoints");
    expect(await list(me.token)).toHaveLength(MAX_ENDPOINTS_PER_SUBSCRIBER);
    // Another subscriber is not affected by this one's cap.
    const other = await subscriber();
    expect((await register(other.token, { url: url(1) })).status).toBe(201);
  });

  it("rate-limits registrations and tests per subscriber with 429 and Retry-After", async () => {
    const me = await subscriber();
    const limit = { RATE_LIMIT_WEBHOOK_PER_HOUR: "2" };
    const first = (await (await register(me.token, { url: sink("limit-a") }, limit)).json()) as EndpointJson;
    expect((await post(me.token, `/${first.id}/test`, limit)).status).toBe(200);
    const limited = await register(me.token, { url: sink("limit-b") }, limit);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect((await post(me.token, `/${first.id}/test`, limit)).status).toBe(429);
    expect(await list(me.token)).toHaveLength(1);
    // Someone else's budget is their own.
    const other = await subscriber();
    expect((await register(other.token, { url: sink("limit-c") }, limit)).status).toBe(201);
  });
});

describe("the listing's deliveries", () => {
  it("shows each endpoint's newest deliveries from the webhook ledger, only its own, at most 5", async () => {
    const me = await subscriber();
    const a = (await (await register(me.token, { url: sink("ledger-a") })).json()) as EndpointJson;
    const b = (await (await register(me.token, { url: sink("ledger-b") })).json()) as EndpointJson;
    const at = (n: number) => new Date(Date.UTC(2026, 10, 1, 9, n)).toISOString();
    const statements = [];
    for (let n = 1; n <= 7; n++) {
      statements.push(
        env.DB.prepare(
          "INSERT INTO publications (sequence, fingerprint, previous_fingerprint, kind, published_at, document, diff, announced) " +
            "VALUES (?1, ?2, ?3, ?4, ?5, '{}', '{}', '[]')",
        ).bind(n, `fp${n}`, n === 1 ? null : `fp${n - 1}`, n === 1 ? "baseline" : "notice", at(n)),
      );
      statements.push(
        env.DB.prepare(
          "INSERT INTO webhook_deliveries (publication_id, endpoint_id, message_id, event_type, url, payload, status, " +
            "attempts, created_at, updated_at) VALUES (?1, ?2, ?3, 'annex-c.changed', ?4, '{}', ?5, 1, ?6, ?6)",
        ).bind(n, a.id, `msg_a${n}`, a.url, n === 7 ? "failed" : "delivered", at(n)),
      );
    }
    statements.push(
      env.DB.prepare(
        "INSERT INTO webhook_deliveries (publication_id, endpoint_id, message_id, event_type, url, payload, status, " +
          "attempts, created_at, updated_at) VALUES (3, 'ep_someone_else', 'msg_x', 'annex-c.changed', 'x', '{}', " +
          "'delivered', 1, ?1, ?1)",
      ).bind(at(3)),
    );
    await env.DB.batch(statements);

    const byId = new Map((await list(me.token)).map((e) => [e.id, e]));
    const deliveries = byId.get(a.id)?.deliveries as { publicationId: number; status: string }[];
    expect(deliveries.map((d) => d.publicationId)).toEqual([7, 6, 5, 4, 3]);
    expect(deliveries[0]).toMatchObject({ status: "failed", messageId: "msg_a7", attempts: 1 });
    expect(byId.get(b.id)?.deliveries).toEqual([]);
    const page = await (await call(`/en/subscription/manage?token=${encodeURIComponent(me.token)}`)).text();
    expect(page).toContain("2026-11-01 09:07 UTC: failed");
    const export_ = (await (await call("/api/subscriptions/me", { headers: bearer(me.token) })).json()) as {
      webhooks: { endpoints: { id: string; deliveries: unknown[] }[] };
    };
    expect(export_.webhooks.endpoints.find((e) => e.id === a.id)?.deliveries).toHaveLength(7);
  });
});

describe("one subscriber's endpoints are invisible to another", () => {
  it("answers 404 for another subscriber's id exactly as for an unknown one, and changes nothing", async () => {
    const owner = await subscriber();
    const intruder = await subscriber();
    const created = (await (await register(owner.token, { url: sink("x") })).json()) as EndpointJson;
    const before = await env.DB.prepare("SELECT * FROM webhook_endpoints").all();
    const unknown = "ep_AAAAAAAAAAAAAAAAAAAAAA";
    for (const [method, suffix] of [
      ["DELETE", ""],
      ["POST", "/test"],
      ["POST", "/rotate-secret"],
    ] as const) {
      const theirs = await call(`${PATH}/${created.id}${suffix}`, { method, headers: bearer(intruder.token) });
      const none = await call(`${PATH}/${unknown}${suffix}`, { method, headers: bearer(intruder.token) });
      expect(theirs.status).toBe(404);
      expect(await theirs.json()).toEqual(await none.json());
    }
    expect(await list(intruder.token)).toEqual([]);
    expect((await env.DB.prepare("SELECT * FROM webhook_endpoints").all()).results).toEqual(before.results);
    expect(await attemptsOf(created.id)).toHaveLength(1); // only the owner's registration test
  });

  it("DELETE removes the owner's endpoint; a second DELETE is a 404", async () => {
    const me = await subscriber();
    const created = (await (await register(me.token, { url: sink("y") })).json()) as EndpointJson;
    const del = await call(`${PATH}/${created.id}`, { method: "DELETE", headers: bearer(me.token) });
    expect(del.status).toBe(200);
    expect(await del.json()).toEqual({ id: created.id, status: "removed" });
    expect(await list(me.token)).toEqual([]);
    expect((await call(`${PATH}/${created.id}`, { method: "DELETE", headers: bearer(me.token) })).status).toBe(404);
    expect((await call(`${PATH}/${created.id}`, { method: "PUT", headers: bearer(me.token) })).status).toBe(405);
  });
});

describe("secret rotation", () => {
  it("signs with the old and the new secret for 24 hours, and with only the new one after", async () => {
    const me = await subscriber();
    const oldOnly = webhookReceiver(base, "reg-rot-old");
    const newOnly = webhookReceiver(base, "reg-rot-new");
    await oldOnly.reset();
    await newOnly.reset();
    const created = (await (await register(me.token, { url: oldOnly.url })).json()) as EndpointJson;
    const oldSecret = created.secret ?? "";
    await oldOnly.setSecrets(oldSecret);

    const rotatedAt = Date.now();
    const res = await post(me.token, `/${created.id}/rotate-secret`);
    expect(res.status).toBe(200);
    const rotated = (await res.json()) as EndpointJson;
    const newSecret = rotated.secret ?? "";
    expect(newSecret).toMatch(/^whsec_/);
    expect(newSecret).not.toBe(oldSecret);
    const until = Date.parse(rotated.previousSecretValidUntil ?? "");
    expect(until - rotatedAt).toBeGreaterThanOrEqual(PREVIOUS_SECRET_VALID_MS - 60_000);
    expect(until - rotatedAt).toBeLessThanOrEqual(PREVIOUS_SECRET_VALID_MS + 60_000);
    await newOnly.setSecrets(newSecret);

    // Within the 24 hours: a receiver still holding the old secret verifies the test event, so does one with the new.
    expect(await (await post(me.token, `/${created.id}/test`)).json()).toMatchObject({ lastTest: { httpStatus: 200 } });
    expect((await oldOnly.state()).calls.at(-1)?.verified).toBe(true);

    const endpoint = await findEndpoint(env.DB, me.id, created.id);
    if (!endpoint) throw new Error("endpoint gone");
    const payload = JSON.stringify({ type: "webhook.test" });
    const now = new Date();
    const during = await signingSecrets(env, endpoint, new Date(until - 1000));
    expect(during).toEqual([newSecret, oldSecret]);
    for (const r of [oldOnly, newOnly]) {
      const a = await sendSigned({ url: r.url, secrets: during, messageId: `msg_during_${r.url}`, payload, now });
      expect(a.httpStatus, r.url).toBe(200);
    }
    // After them (computed with a later `now`): only the new secret signs, and the old-secret receiver refuses it.
    const after = await signingSecrets(env, endpoint, new Date(until + 1000));
    expect(after).toEqual([newSecret]);
    const refused = await sendSigned({ url: oldOnly.url, secrets: after, messageId: "msg_after_old", payload, now });
    expect(refused.httpStatus).toBe(401);
    const accepted = await sendSigned({ url: newOnly.url, secrets: after, messageId: "msg_after_new", payload, now });
    expect(accepted.httpStatus).toBe(200);

    // The new secret, too, is stored only sealed.
    const row = await env.DB.prepare("SELECT * FROM webhook_endpoints WHERE id = ?1")
      .bind(created.id)
      .first<Record<string, unknown>>();
    for (const value of Object.values(row ?? {})) {
      expect(String(value)).not.toContain(newSecret.slice(6, 30));
      expect(String(value)).not.toContain(oldSecret.slice(6, 30));
    }
  });
});

describe("erasure and access (GDPR)", () => {
  it("erasing the subscription deletes its endpoints; the export lists them with their attempts, no secret", async () => {
    const me = await subscriber();
    const other = await subscriber();
    const receiver = webhookReceiver(base, "reg-gdpr");
    await receiver.reset();
    const mine = (await (await register(me.token, { url: receiver.url })).json()) as EndpointJson;
    const theirs = (await (await register(other.token, { url: sink("other") })).json()) as EndpointJson;

    const exported = (await (await call("/api/subscriptions/me", { headers: bearer(me.token) })).json()) as {
      webhooks: { endpoints: EndpointJson[]; attempts: { endpointId: string; eventType: string }[] };
    };
    expect(exported.webhooks.endpoints.map((e) => e.id)).toEqual([mine.id]);
    expect(exported.webhooks.attempts).toEqual([
      expect.objectContaining({ endpointId: mine.id, eventType: "webhook.test", httpStatus: 200 }),
    ]);

    const erased = await call("/api/subscriptions/me", { method: "DELETE", headers: bearer(me.token) });
    expect(erased.status).toBe(200);
    const { results } = await env.DB.prepare("SELECT id FROM webhook_endpoints").all<{ id: string }>();
    expect(results.map((r) => r.id)).toEqual([theirs.id]);
  });
});

describe("the manage page's Webhooks section (forms, no JavaScript)", () => {
  const form = (token: string, locale: string, fields: [string, string][] = []) =>
    browserForm([["token", token], ["locale", locale], ...fields]);

  async function managePage(token: string, query = "") {
    const res = await call(`/en/subscription/manage?token=${encodeURIComponent(token)}${query}`);
    expect(res.status).toBe(200);
    return res.text();
  }

  it("adds an endpoint (secret shown once), tests it, rotates its secret and removes it, each from a form", async () => {
    const me = await subscriber();
    const receiver = webhookReceiver(base, "reg-forms");
    await receiver.reset();
    await receiver.faults({ kind: "status", status: 500 });

    const empty = await managePage(me.token);
    expect(empty).toContain('<h2 id="webhooks">Webhooks</h2>');
    expect(empty).toContain("You have no webhook endpoints.");
    expect(empty).toMatch(/<label for="webhook-url">Endpoint URL<\/label>/);

    // Add: the answer is the page with the secret (never a redirect carrying it).
    const added = await call(
      PATH,
      form(me.token, "en", [
        ["url", receiver.url],
        ["description", "Ticketing"],
        ["regions", "uk"],
        ["cohort", ""],
      ]),
    );
    expect(added.status).toBe(200);
    expect(added.headers.get("Cache-Control")).toBe("no-store");
    const addedPage = await added.text();
    expect(addedPage).toContain("Your endpoint was added");
    expect(addedPage).toContain("It is shown only this once");
    const secret = /<code>(whsec_[A-Za-z0-9+/=]+)<\/code>/.exec(addedPage)?.[1] ?? "";
    expect(secret).toMatch(/^whsec_/);
    const [endpoint] = await list(me.token);
    expect(endpoint).toMatchObject({ url: receiver.url, regions: ["uk"], cohort: null, status: "pending" });
    const id = endpoint?.id ?? "";
    expect(await openSecret(env, id, (await findEndpoint(env.DB, me.id, id))?.secretSealed ?? "")).toBe(secret);

    // The page lists it, without the secret; the automatic test failed (500), so it waits for a test.
    const listed = await managePage(me.token);
    expect(listed).toContain('<h3 id="webhook-1">Ticketing</h3>');
    expect(listed).toContain("Waiting for a successful test");
    expect(listed).toContain("answered 500, not 2xx");
    expect(listed).not.toContain(secret);

    // Test: 303 back to the manage page, which now shows it active.
    await receiver.setSecrets(secret);
    const tested = await call(`${PATH}/${id}/test`, form(me.token, "en"));
    expect(tested.status).toBe(303);
    const location = tested.headers.get("Location") ?? "";
    expect(location).toBe(`/en/subscription/manage?token=${encodeURIComponent(me.token)}&webhook=tested#webhooks`);
    const afterTest = await managePage(me.token, "&webhook=tested");
    expect(afterTest).toContain('<p role="status">The test event was sent; its result is shown below.</p>');
    expect(afterTest).toMatch(/<dd>Active<\/dd>/);
    expect((await receiver.state()).calls.at(-1)?.verified).toBe(true);

    // Rotate: the new secret, once, and the old one's 24 hours.
    const rotated = await call(`${PATH}/${id}/rotate-secret`, form(me.token, "en"));
    expect(rotated.status).toBe(200);
    const rotatedPage = await rotated.text();
    expect(rotatedPage).toContain("Your endpoint has a new secret");
    expect(rotatedPage).toMatch(
      /Until \d{4}-\d\d-\d\d \d\d:\d\d UTC every call is also signed with the previous secret/,
    );
    const newSecret = /<code>(whsec_[A-Za-z0-9+/=]+)<\/code>/.exec(rotatedPage)?.[1] ?? "";
    expect(newSecret).toMatch(/^whsec_/);
    expect(newSecret).not.toBe(secret);

    // Remove: 303 back, and it is gone.
    const removed = await call(`${PATH}/${id}`, form(me.token, "en", [["_method", "DELETE"]]));
    expect(removed.status).toBe(303);
    expect(removed.headers.get("Location")).toContain("webhook=removed");
    const afterRemove = await managePage(me.token, "&webhook=removed");
    expect(afterRemove).toContain("The endpoint was removed.");
    expect(afterRemove).toContain("You have no webhook endpoints.");
  });

  it("a refused URL answers with a page in the form's language that says why, and adds nothing", async () => {
    const me = await subscriber();
    const da = await call(PATH, form(me.token, "da", [["url", "https://10.0.0.7/hook"]]));
    expect(da.status).toBe(422);
    const daPage = await da.text();
    expect(daPage).toContain('<html lang="da">');
    expect(daPage).toContain("IP-adresser accepteres ikke; brug et offentligt værtsnavn.");
    expect(daPage).toContain(`/da/subscription/manage?token=${encodeURIComponent(me.token)}#webhooks`);
    const en = await call(PATH, form(me.token, "en", [["url", "https://printer.local/"]]));
    expect(await en.text()).toContain("Names under .local are for the local network.");
    expect(await list(me.token)).toEqual([]);
    // Another subscriber's id from a form: the same page as for an unknown id, nothing removed.
    const other = await subscriber();
    const theirs = (await (await register(other.token, { url: sink("z") })).json()) as EndpointJson;
    const res = await call(`${PATH}/${theirs.id}`, form(me.token, "en", [["_method", "DELETE"]]));
    expect(res.status).toBe(404);
    expect(await list(other.token)).toHaveLength(1);
  });
});
