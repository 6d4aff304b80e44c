/**
 * Bad input never gets a 5xx and never changes anything: each request below must be answered with
 * the exact 4xx, as RFC 9457 problem+json with a detail, and leave every table as it was.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { call, json, LOCAL_DEV, ORIGIN, outbox, resetTables, snapshot, subscribe, tokenFrom } from "./helpers.ts";

interface Case {
  name: string;
  path: string | (() => string);
  init: RequestInit | (() => RequestInit);
  status: number;
  code: string;
  /** Bindings for this request only (the development outbox needs a loopback PUBLIC_BASE_URL). */
  bindings?: Partial<Env>;
}

let manageToken = "";
const auth = (extra: Record<string, string> = {}) => ({ Authorization: `Bearer ${manageToken}`, ...extra });
const UNKNOWN_TOKEN = "A".repeat(43);

const post = (body: string, contentType?: string, headers: Record<string, string> = {}): RequestInit => ({
  method: "POST",
  headers: { ...(contentType ? { "Content-Type": contentType } : {}), ...headers },
  body,
});
const signup = (body: Record<string, unknown>) => json(body);
const withEmail = (email: unknown) => signup({ email });

const cases: Case[] = [
  // --- POST /api/subscriptions: the body as a whole
  {
    name: "malformed JSON",
    path: "/api/subscriptions",
    init: post('{"email":', "application/json"),
    status: 400,
    code: "malformed_body",
  },
  {
    name: "JSON array body",
    path: "/api/subscriptions",
    init: post("[]", "application/json"),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "JSON null body",
    path: "/api/subscriptions",
    init: post("null", "application/json"),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "JSON string body",
    path: "/api/subscriptions",
    init: post('"a@example.com"', "application/json"),
    status: 422,
    code: "invalid_input",
  },
  { name: "empty JSON object", path: "/api/subscriptions", init: signup({}), status: 422, code: "invalid_input" },
  {
    name: "empty body with JSON type",
    path: "/api/subscriptions",
    init: post("", "application/json"),
    status: 400,
    code: "malformed_body",
  },
  {
    name: "invalid UTF-8 in JSON",
    path: "/api/subscriptions",
    init: {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
    },
    status: 400,
    code: "malformed_body",
  },
  {
    name: "text/plain body",
    path: "/api/subscriptions",
    init: post('{"email":"a@example.com"}', "text/plain"),
    status: 415,
    code: "unsupported_media_type",
  },
  {
    name: "no content type",
    path: "/api/subscriptions",
    init: post('{"email":"a@example.com"}'),
    status: 415,
    code: "unsupported_media_type",
  },
  {
    name: "XML body",
    path: "/api/subscriptions",
    init: post("<email>a@example.com</email>", "application/xml"),
    status: 415,
    code: "unsupported_media_type",
  },
  {
    name: "body over 16 KB (JSON)",
    path: "/api/subscriptions",
    init: signup({ email: "a@example.com", website: "x".repeat(17 * 1024) }),
    status: 413,
    code: "payload_too_large",
  },
  {
    name: "body over 16 KB (form)",
    path: "/api/subscriptions",
    init: post(`email=a%40example.com&website=${"x".repeat(17 * 1024)}`, "application/x-www-form-urlencoded"),
    status: 413,
    code: "payload_too_large",
  },
  // --- unknown and mistyped fields
  {
    name: "unknown field",
    path: "/api/subscriptions",
    init: signup({ email: "a@example.com", name: "A" }),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "mass assignment of status",
    path: "/api/subscriptions",
    init: signup({ email: "a@example.com", status: "confirmed" }),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "__proto__ key",
    path: "/api/subscriptions",
    init: post('{"email":"a@example.com","__proto__":{"admin":true}}', "application/json"),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "honeypot of the wrong type",
    path: "/api/subscriptions",
    init: signup({ email: "a@example.com", website: 1 }),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "form with an unknown field",
    path: "/api/subscriptions",
    init: post("email=a%40example.com&admin=1", "application/x-www-form-urlencoded"),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "form with email given twice",
    path: "/api/subscriptions",
    init: post("email=a%40example.com&email=b%40example.com", "application/x-www-form-urlencoded"),
    status: 422,
    code: "invalid_input",
  },
  // --- email addresses
  {
    name: "email missing",
    path: "/api/subscriptions",
    init: signup({ locale: "en" }),
    status: 422,
    code: "invalid_input",
  },
  { name: "email a number", path: "/api/subscriptions", init: withEmail(42), status: 422, code: "invalid_input" },
  { name: "email null", path: "/api/subscriptions", init: withEmail(null), status: 422, code: "invalid_input" },
  {
    name: "email an array",
    path: "/api/subscriptions",
    init: withEmail(["a@example.com"]),
    status: 422,
    code: "invalid_input",
  },
  { name: "email empty", path: "/api/subscriptions", init: withEmail(""), status: 422, code: "invalid_input" },
  { name: "email only spaces", path: "/api/subscriptions", init: withEmail("   "), status: 422, code: "invalid_input" },
  {
    name: "email without @",
    path: "/api/subscriptions",
    init: withEmail("plainaddress"),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "email without local part",
    path: "/api/subscriptions",
    init: withEmail("@example.com"),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "email without domain",
    path: "/api/subscriptions",
    init: withEmail("user@"),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "email with a single-label domain",
    path: "/api/subscriptions",
    init: withEmail("user@localhost"),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "email at an IP address",
    path: "/api/subscriptions",
    init: withEmail("user@127.0.0.1"),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "email with two @",
    path: "/api/subscriptions",
    init: withEmail("a@b@example.com"),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "header injection with CRLF Bcc",
    path: "/api/subscriptions",
    init: withEmail("victim@example.com\r\nBcc: all@example.com"),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "header injection with LF Cc",
    path: "/api/subscriptions",
    init: withEmail("victim@example.com\nCc: x@example.com"),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "header injection in a form",
    path: "/api/subscriptions",
    init: post("email=victim%40example.com%0D%0ABcc%3A%20x%40example.com", "application/x-www-form-urlencoded"),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "two addresses with a comma",
    path: "/api/subscriptions",
    init: withEmail("a@example.com, b@example.com"),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "two addresses with a semicolon",
    path: "/api/subscriptions",
    init: withEmail("a@example.com;b@example.com"),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "display-name form",
    path: "/api/subscriptions",
    init: withEmail("Name <a@example.com>"),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "quoted local part",
    path: "/api/subscriptions",
    init: withEmail('"quoted"@example.com'),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "consecutive dots",
    path: "/api/subscriptions",
    init: withEmail("user..dots@example.com"),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "leading dot",
    path: "/api/subscriptions",
    init: withEmail(".lead@example.com"),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "domain label with hyphens at the ends",
    path: "/api/subscriptions",
    init: withEmail("user@-bad-.example.com"),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "underscore in the domain",
    path: "/api/subscriptions",
    init: withEmail("user@exa_mple.com"),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "local part over 64 characters",
    path: "/api/subscriptions",
    init: withEmail(`${"a".repeat(65)}@example.com`),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "address over 320 characters",
    path: "/api/subscriptions",
    init: withEmail(`a@${"b".repeat(330)}.com`),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "NUL byte in the address",
    path: "/api/subscriptions",
    init: withEmail("user@example.com\u0000"),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "space inside the address",
    path: "/api/subscriptions",
    init: withEmail("user name@example.com"),
    status: 422,
    code: "invalid_input",
  },
  // --- locale, topics, regions
  {
    name: "unknown locale",
    path: "/api/subscriptions",
    init: signup({ email: "a@example.com", locale: "de" }),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "locale in capitals",
    path: "/api/subscriptions",
    init: signup({ email: "a@example.com", locale: "EN" }),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "locale a number",
    path: "/api/subscriptions",
    init: signup({ email: "a@example.com", locale: 5 }),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "topics not a list",
    path: "/api/subscriptions",
    init: signup({ email: "a@example.com", topics: "dpa" }),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "topics empty",
    path: "/api/subscriptions",
    init: signup({ email: "a@example.com", topics: [] }),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "unknown topic",
    path: "/api/subscriptions",
    init: signup({ email: "a@example.com", topics: ["newsletter"] }),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "topics too long",
    path: "/api/subscriptions",
    init: signup({ email: "a@example.com", topics: ["dpa", "dpa", "dpa"] }),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "topic a number",
    path: "/api/subscriptions",
    init: signup({ email: "a@example.com", topics: [1] }),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "unknown region",
    path: "/api/subscriptions",
    init: signup({ email: "a@example.com", regions: ["us"] }),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "regions empty",
    path: "/api/subscriptions",
    init: signup({ email: "a@example.com", regions: [] }),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "regions longer than the list of regions",
    path: "/api/subscriptions",
    init: signup({ email: "a@example.com", regions: ["uk", "de", "ca", "eea-ch", "uk"] }),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "regions with 1000 entries",
    path: "/api/subscriptions",
    init: signup({ email: "a@example.com", regions: Array(1000).fill("uk") }),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "nested region list",
    path: "/api/subscriptions",
    init: signup({ email: "a@example.com", regions: [["uk"]] }),
    status: 422,
    code: "invalid_input",
  },
  // --- origin and method
  {
    name: "cross-site Origin",
    path: "/api/subscriptions",
    init: json({ email: "a@example.com" }, { Origin: "https://evil.example" }),
    status: 403,
    code: "forbidden",
  },
  {
    name: "Origin: null",
    path: "/api/subscriptions",
    init: json({ email: "a@example.com" }, { Origin: "null" }),
    status: 403,
    code: "forbidden",
  },
  {
    name: "same host over another scheme",
    path: "/api/subscriptions",
    init: json({ email: "a@example.com" }, { Origin: "http://portal.example" }),
    status: 403,
    code: "forbidden",
  },
  {
    name: "GET on the sign-up endpoint",
    path: "/api/subscriptions",
    init: { method: "GET" },
    status: 405,
    code: "method_not_allowed",
  },
  {
    name: "PUT on the sign-up endpoint",
    path: "/api/subscriptions",
    init: { ...signup({ email: "a@example.com" }), method: "PUT" },
    status: 405,
    code: "method_not_allowed",
  },
  // --- POST /api/subscriptions/confirm
  {
    name: "confirm without token",
    path: "/api/subscriptions/confirm",
    init: json({}),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "confirm with a numeric token",
    path: "/api/subscriptions/confirm",
    init: json({ token: 12345 }),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "confirm with an unknown token",
    path: "/api/subscriptions/confirm",
    init: json({ token: UNKNOWN_TOKEN }),
    status: 400,
    code: "invalid_token",
  },
  {
    name: "confirm with a malformed token",
    path: "/api/subscriptions/confirm",
    init: json({ token: "abc'; DROP TABLE subscribers;--" }),
    status: 400,
    code: "invalid_token",
  },
  {
    name: "confirm with an overlong token",
    path: "/api/subscriptions/confirm",
    init: json({ token: "A".repeat(500) }),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "confirm with a manage token",
    path: "/api/subscriptions/confirm",
    init: () => json({ token: manageToken }),
    status: 400,
    code: "invalid_token",
  },
  {
    name: "confirm with an extra field",
    path: "/api/subscriptions/confirm",
    init: json({ token: UNKNOWN_TOKEN, email: "a@example.com" }),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "confirm as text/plain",
    path: "/api/subscriptions/confirm",
    init: post(`{"token":"${UNKNOWN_TOKEN}"}`, "text/plain"),
    status: 415,
    code: "unsupported_media_type",
  },
  {
    name: "GET on confirm",
    path: "/api/subscriptions/confirm",
    init: { method: "GET" },
    status: 405,
    code: "method_not_allowed",
  },
  // --- one-click unsubscribe
  {
    name: "unsubscribe without token",
    path: "/api/subscriptions/unsubscribe",
    init: post("List-Unsubscribe=One-Click", "application/x-www-form-urlencoded"),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "unsubscribe with the wrong body",
    path: () => `/api/subscriptions/unsubscribe?token=${manageToken}`,
    init: post("List-Unsubscribe=Yes", "application/x-www-form-urlencoded"),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "unsubscribe with an empty body",
    path: () => `/api/subscriptions/unsubscribe?token=${manageToken}`,
    init: post("", "application/x-www-form-urlencoded"),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "unsubscribe with extra body fields",
    path: () => `/api/subscriptions/unsubscribe?token=${manageToken}`,
    init: post("List-Unsubscribe=One-Click&all=1", "application/x-www-form-urlencoded"),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "unsubscribe with an unknown token",
    path: `/api/subscriptions/unsubscribe?token=${UNKNOWN_TOKEN}`,
    init: post("List-Unsubscribe=One-Click", "application/x-www-form-urlencoded"),
    status: 400,
    code: "invalid_token",
  },
  {
    name: "unsubscribe with an unknown query field",
    path: () => `/api/subscriptions/unsubscribe?token=${manageToken}&email=a@example.com`,
    init: post("List-Unsubscribe=One-Click", "application/x-www-form-urlencoded"),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "unsubscribe with an unknown locale",
    path: () => `/api/subscriptions/unsubscribe?token=${manageToken}&locale=fr`,
    init: post("List-Unsubscribe=One-Click", "application/x-www-form-urlencoded"),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "unsubscribe as text/plain",
    path: () => `/api/subscriptions/unsubscribe?token=${manageToken}`,
    init: post("List-Unsubscribe=One-Click", "text/plain"),
    status: 415,
    code: "unsupported_media_type",
  },
  {
    name: "unsubscribe link without a token",
    path: "/api/subscriptions/unsubscribe",
    init: { method: "GET" },
    status: 422,
    code: "invalid_input",
  },
  // --- /me
  {
    name: "read without a token",
    path: "/api/subscriptions/me",
    init: { method: "GET" },
    status: 401,
    code: "unauthorized",
  },
  {
    name: "read with an unknown token",
    path: "/api/subscriptions/me",
    init: { headers: { Authorization: `Bearer ${UNKNOWN_TOKEN}` } },
    status: 401,
    code: "unauthorized",
  },
  {
    name: "read with garbage as the token",
    path: "/api/subscriptions/me",
    init: { headers: { Authorization: "Bearer <script>" } },
    status: 401,
    code: "unauthorized",
  },
  {
    name: "read with Basic auth",
    path: "/api/subscriptions/me",
    init: { headers: { Authorization: "Basic dXNlcjpwYXNz" } },
    status: 401,
    code: "unauthorized",
  },
  {
    name: "change with an empty object",
    path: "/api/subscriptions/me",
    init: () => ({ method: "PATCH", headers: auth({ "Content-Type": "application/json" }), body: "{}" }),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "change to an unknown locale",
    path: "/api/subscriptions/me",
    init: () => ({ method: "PATCH", headers: auth({ "Content-Type": "application/json" }), body: '{"locale":"fr"}' }),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "change subscribed to a string",
    path: "/api/subscriptions/me",
    init: () => ({
      method: "PATCH",
      headers: auth({ "Content-Type": "application/json" }),
      body: '{"subscribed":"yes"}',
    }),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "change the address itself",
    path: "/api/subscriptions/me",
    init: () => ({
      method: "PATCH",
      headers: auth({ "Content-Type": "application/json" }),
      body: '{"email":"new@example.com"}',
    }),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "change topics to nothing",
    path: "/api/subscriptions/me",
    init: () => ({ method: "PATCH", headers: auth({ "Content-Type": "application/json" }), body: '{"topics":[]}' }),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "change as a form",
    path: "/api/subscriptions/me",
    init: () => ({
      method: "PATCH",
      headers: auth({ "Content-Type": "application/x-www-form-urlencoded" }),
      body: "locale=en",
    }),
    status: 415,
    code: "unsupported_media_type",
  },
  {
    name: "change without a token",
    path: "/api/subscriptions/me",
    init: { method: "PATCH", headers: { "Content-Type": "application/json" }, body: '{"locale":"en"}' },
    status: 401,
    code: "unauthorized",
  },
  {
    name: "erase with a body",
    path: "/api/subscriptions/me",
    init: () => ({ method: "DELETE", headers: auth({ "Content-Type": "application/json" }), body: '{"confirm":true}' }),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "erase without a token",
    path: "/api/subscriptions/me",
    init: { method: "DELETE" },
    status: 401,
    code: "unauthorized",
  },
  {
    name: "manage form with an unknown _method",
    path: "/api/subscriptions/me",
    init: () => post(`token=${manageToken}&_method=PUT`, "application/x-www-form-urlencoded"),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "manage form without the token",
    path: "/api/subscriptions/me",
    init: post("_method=DELETE", "application/x-www-form-urlencoded"),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "manage form saving no topics",
    path: "/api/subscriptions/me",
    init: () => post(`token=${manageToken}&_method=PATCH&regions=uk`, "application/x-www-form-urlencoded"),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "manage form with an unknown region",
    path: "/api/subscriptions/me",
    init: () => post(`token=${manageToken}&_method=PATCH&topics=dpa&regions=mars`, "application/x-www-form-urlencoded"),
    status: 422,
    code: "invalid_input",
  },
  {
    name: "manage form erasing with an unknown token",
    path: "/api/subscriptions/me",
    init: post(`token=${UNKNOWN_TOKEN}&_method=DELETE`, "application/x-www-form-urlencoded"),
    status: 401,
    code: "unauthorized",
  },
  {
    name: "PUT on /me",
    path: "/api/subscriptions/me",
    init: () => ({ method: "PUT", headers: auth({ "Content-Type": "application/json" }), body: "{}" }),
    status: 405,
    code: "method_not_allowed",
  },
  // --- the development outbox and unknown paths
  {
    name: "outbox with limit 0",
    path: "/api/dev/outbox?limit=0",
    init: {},
    bindings: LOCAL_DEV,
    status: 422,
    code: "invalid_input",
  },
  {
    name: "outbox with a non-numeric limit",
    path: "/api/dev/outbox?limit=all",
    init: {},
    bindings: LOCAL_DEV,
    status: 422,
    code: "invalid_input",
  },
  {
    name: "outbox filtered by a non-address",
    path: "/api/dev/outbox?to=nobody",
    init: {},
    bindings: LOCAL_DEV,
    status: 422,
    code: "invalid_input",
  },
  {
    name: "outbox with an unknown parameter",
    path: "/api/dev/outbox?sql=1",
    init: {},
    bindings: LOCAL_DEV,
    status: 422,
    code: "invalid_input",
  },
  { name: "unknown API path", path: "/api/subscriptions/everyone", init: {}, status: 404, code: "not_found" },
  {
    name: "path traversal in the API",
    path: "/api/subscriptions/..%2f..%2fsecrets",
    init: {},
    status: 404,
    code: "not_found",
  },
];

beforeAll(async () => {
  await resetTables();
  // One confirmed subscriber, so token-carrying requests have something real to aim at.
  await subscribe({ email: "existing@example.com" });
  const [confirmation] = await outbox("existing@example.com");
  if (!confirmation) throw new Error("no confirmation email");
  await call("/api/subscriptions/confirm", json({ token: tokenFrom(confirmation, "/subscription/confirm") }));
  const [welcome] = await outbox("existing@example.com");
  if (!welcome) throw new Error("no welcome email");
  manageToken = tokenFrom(welcome, "/subscription/manage");
});

describe("bad requests", () => {
  it("are at least 60 distinct cases", () => {
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
    expect(cases.length).toBeGreaterThanOrEqual(60);
  });

  it.each(cases)("$name → $status $code, database unchanged", async (c) => {
    const before = await snapshot();
    const path = typeof c.path === "function" ? c.path() : c.path;
    const init = typeof c.init === "function" ? c.init() : c.init;
    const res = await call(
      path,
      { ...init, headers: { ...(init.headers as Record<string, string>), "CF-Connecting-IP": "203.0.113.9" } },
      c.bindings,
    );
    expect(res.status).toBe(c.status);
    expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: c.status, code: c.code, type: `/api/problems/${c.code}` });
    expect(typeof body.title).toBe("string");
    expect(typeof body.detail).toBe("string");
    expect((body.detail as string).length).toBeGreaterThan(5);
    expect(JSON.stringify(body)).not.toMatch(/at \w+ \(|\.ts:\d+|stack/i);
    expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(await snapshot()).toEqual(before);
  });
});

describe("bad links on the worker-rendered pages", () => {
  it.each([
    ["/da/subscription/confirm", 422],
    ["/en/subscription/manage?token=nonsense", 401],
    [`/en/subscription/manage?token=${UNKNOWN_TOKEN}`, 401],
    ["/en/subscription/unsubscribe?token=", 422],
  ])("%s → an HTML error page (%i) in the page's language", async (path, status) => {
    const before = await snapshot();
    const res = await call(path);
    expect(res.status).toBe(status);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toContain(`<html lang="${path.slice(1, 3)}">`);
    expect(html.match(/<h1>/g)).toHaveLength(1);
    expect(await snapshot()).toEqual(before);
  });

  it("GET on a sign-up path from a browser still never 5xx", async () => {
    const res = await call("/api/subscriptions", { headers: { Accept: "text/html" } });
    expect(res.status).toBe(405);
    expect(ORIGIN).toBe("https://portal.example");
  });
});
