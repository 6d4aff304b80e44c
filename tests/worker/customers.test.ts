/**
 * Customers, staff side (README "Customers and evidence"): DPA 5.2 owes written notice to each customer, so the
 * customer list must load whole, stay as it is when loaded twice, refuse a bad file without writing a row, keep every
 * evidence row when a contract ends, and tell the vendor when a customer has no contact left to notify.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { sha256Hex } from "../../domain/canonical.ts";
import { contactRegisteredEmail } from "../../emails/customer.ts";
import { resendAccount } from "../../testing/resend-control.ts";
import { vendor } from "../../worker/env.ts";
import { contactRegistrationToken } from "../../worker/notices/engine/tokens.ts";
import { MAX_ATTEMPTS } from "../../worker/notices/queue.ts";
import { call as callWorker, ORIGIN, type OutboxEmail, outbox } from "./helpers.ts";
import { deliver, drain, type QueueBody } from "./notices-helpers.ts";

const AUTH = { Authorization: `Bearer ${env.ADMIN_TOKEN}` };
const CUSTOMER_TABLES = ["contact_tokens", "customer_contacts", "customers", "outbox", "objections", "deliveries"];

/** The notice queue, captured: registration emails go through it (worker/customers/registrations.ts). */
const queued: QueueBody[] = [];
const captured = {
  send: async (body: QueueBody) => {
    queued.push(structuredClone(body));
  },
  sendBatch: async (messages: Iterable<{ body: QueueBody }>) => {
    for (const m of messages) queued.push(structuredClone(m.body));
  },
} as unknown as Queue;
/** A budget that lets the tests' few provider calls go at once; tests of the budget set their own. */
const FAST = { RESEND_MAX_RPS: "1000" } as Partial<Env>;

/** A request, then the real queue consumer on whatever it queued (as the platform would, moments later). */
async function call(path: string, init: RequestInit = {}, bindings: Partial<Env> = {}): Promise<Response> {
  const res = await callWorker(path, init, { NOTICE_QUEUE: captured, ...bindings });
  await drain(queued.splice(0), FAST);
  return res;
}

function admin(path: string, init: RequestInit = {}): Promise<Response> {
  return call(path, { ...init, headers: { ...AUTH, ...(init.headers as Record<string, string> | undefined) } });
}

function put(externalId: string, body: unknown): Promise<Response> {
  return admin(`/api/admin/customers/${externalId}`, {
    method: "PUT",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
}

function importFile(body: string, type: string, query = ""): Promise<Response> {
  return admin(`/api/admin/customers/import${query}`, { method: "POST", headers: { "Content-Type": type }, body });
}

/** Every row of the customer tables and the outbox, for "nothing was written" assertions. */
async function snapshot(): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const table of CUSTOMER_TABLES) {
    // The ledger is a WITHOUT ROWID table (migration 0014): ordered by its primary key.
    const order = table === "deliveries" ? "publication_id, subscriber_id" : "rowid";
    out[table] = (await env.DB.prepare(`SELECT * FROM ${table} ORDER BY ${order}`).all()).results;
  }
  return out;
}

async function count(sql: string, ...binds: unknown[]): Promise<number> {
  const row = await env.DB.prepare(sql)
    .bind(...binds)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

function registrationsTo(emails: OutboxEmail[], to: string): OutboxEmail[] {
  return emails.filter((e) => e.to === to && e.subject.includes("notice contact"));
}

function tokenOf(email: OutboxEmail): string {
  const match = /\/customer\/contact\?token=([A-Za-z0-9_-]+)/.exec(email.text);
  if (!match?.[1]) throw new Error(`no contact link in "${email.subject}"`);
  return match[1];
}

const NORDLYS = {
  name: "Nordlys A/S",
  region: "uk",
  contractDate: "2023-03-14",
  locale: "en",
  contacts: [{ email: "dpo@nordlys.example", name: "Data Protection Officer" }, { email: "legal@nordlys.example" }],
};

beforeEach(async () => {
  queued.length = 0;
  await env.DB.batch([
    ...CUSTOMER_TABLES.map((t) => env.DB.prepare(`DELETE FROM ${t}`)),
    env.DB.prepare("DELETE FROM publications"),
  ]);
});

describe("admin token", () => {
  it("is required on every customer endpoint (401 problem+json without it or with a wrong one)", async () => {
    const requests: [string, RequestInit][] = [
      ["/api/admin/customers", {}],
      ["/api/admin/customers/C-1", {}],
      ["/api/admin/customers/C-1", { method: "PUT", headers: { "Content-Type": "application/json" }, body: "{}" }],
      ["/api/admin/customers/C-1", { method: "DELETE" }],
      ["/api/admin/customers/import", { method: "POST", headers: { "Content-Type": "text/csv" }, body: "x" }],
    ];
    for (const [path, init] of requests) {
      for (const headers of [{}, { Authorization: "Bearer not-the-token" }] as Record<string, string>[]) {
        const res = await call(path, { ...init, headers: { ...(init.headers as object), ...headers } });
        expect(res.status, `${init.method ?? "GET"} ${path}`).toBe(401);
        expect(res.headers.get("Content-Type")).toContain("application/problem+json");
      }
    }
    expect(await count("SELECT COUNT(*) AS n FROM customers")).toBe(0);
  });
});

describe("PUT /api/admin/customers/{externalId}", () => {
  it("is idempotent: the same customer twice (contacts in any order) changes nothing and registers no one again", async () => {
    const first = await put("C-1001", NORDLYS);
    expect(first.status).toBe(201);
    expect(await first.json()).toMatchObject({
      status: "created",
      customer: { externalId: "C-1001", cohort: "legacy", cohortNamed: false, contacts: [{}, {}] },
    });
    const before = await snapshot();

    const again = await put("C-1001", { ...NORDLYS, contacts: [...NORDLYS.contacts].reverse() });
    expect(again.status).toBe(200);
    expect(((await again.json()) as { status: string }).status).toBe("unchanged");
    expect(await snapshot()).toEqual(before);
    expect(registrationsTo(await outbox(), "dpo@nordlys.example")).toHaveLength(1);

    const renamed = await put("C-1001", { ...NORDLYS, name: "Nordlys ApS" });
    expect(await renamed.json()).toMatchObject({ status: "updated", customer: { name: "Nordlys ApS" } });
    expect(await outbox()).toHaveLength(2); // still one registration per contact
  });

  it("registers a new contact once, removes one no longer listed, and keeps the removed contact's row", async () => {
    await put("C-1001", NORDLYS);
    const res = await put("C-1001", { ...NORDLYS, contacts: [{ email: "new@nordlys.example" }] });
    expect(await res.json()).toMatchObject({
      status: "updated",
      customer: { contacts: [{ email: "new@nordlys.example" }] },
    });
    expect(registrationsTo(await outbox(), "new@nordlys.example")).toHaveLength(1);
    const statuses = await env.DB.prepare("SELECT email, status FROM customer_contacts ORDER BY email").all();
    expect(statuses.results).toEqual([
      { email: "dpo@nordlys.example", status: "removed" },
      { email: "legal@nordlys.example", status: "removed" },
      { email: "new@nordlys.example", status: "active" },
    ]);
  });

  it("answers 422 problem+json naming the field for a bad customer, and writes nothing", async () => {
    const res = await put("C-1001", { ...NORDLYS, region: "fr", contacts: [{ email: "not an address" }] });
    expect(res.status).toBe(422);
    const problem = (await res.json()) as { errors: { path: string }[] };
    expect(problem.errors.map((e) => e.path).sort()).toEqual(["contacts.0.email", "region"]);
    const mismatch = await put("C-1001", { ...NORDLYS, externalId: "C-2" });
    expect(mismatch.status).toBe(422);
    expect(await count("SELECT COUNT(*) AS n FROM customers")).toBe(0);
  });
});

describe("GET /api/admin/customers", () => {
  it("filters by region and by cohort, derived from the contract date or named by staff", async () => {
    await put("UK-OLD", NORDLYS);
    await put("UK-NEW", { ...NORDLYS, contractDate: "2024-01-10" });
    await put("UK-SWITCH", { ...NORDLYS, cohort: "legacy-switch" });
    await put("CA-NEW", { ...NORDLYS, region: "ca", contractDate: "2024-01-10" });
    const ids = async (query: string) => {
      const res = await admin(`/api/admin/customers${query}`);
      expect(res.status).toBe(200);
      return ((await res.json()) as { customers: { externalId: string }[] }).customers.map((c) => c.externalId);
    };
    expect(await ids("")).toEqual(["CA-NEW", "UK-NEW", "UK-OLD", "UK-SWITCH"]);
    expect(await ids("?region=uk")).toEqual(["UK-NEW", "UK-OLD", "UK-SWITCH"]);
    expect(await ids("?region=uk&cohort=legacy")).toEqual(["UK-OLD"]);
    expect(await ids("?cohort=current")).toEqual(["CA-NEW", "UK-NEW"]);
    expect(await ids("?cohort=legacy-switch")).toEqual(["UK-SWITCH"]);

    await admin("/api/admin/customers/UK-OLD", { method: "DELETE" });
    expect(await ids("?region=uk")).toEqual(["UK-NEW", "UK-SWITCH"]);
    expect(await ids("?region=uk&ended=1")).toEqual(["UK-NEW", "UK-OLD", "UK-SWITCH"]);

    const bad = await admin("/api/admin/customers?region=fr&cohort=old");
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as { errors: { path: string }[] }).errors.map((e) => e.path).sort()).toEqual([
      "cohort",
      "region",
    ]);
  });
});

/** A publication with one delivery to the customer's first contact and one objection, as the notice side writes them. */
async function noticeHistory(externalId: string): Promise<string> {
  const contact = await env.DB.prepare("SELECT id, email FROM customer_contacts WHERE customer_id = ?1 ORDER BY email")
    .bind(externalId)
    .first<{ id: string; email: string }>();
  if (!contact) throw new Error("no contact");
  await env.DB.batch([
    env.DB.prepare(
      "INSERT INTO publications (sequence, fingerprint, previous_fingerprint, kind, published_at, document, diff, announced) " +
        "VALUES (1, 'f1', NULL, 'baseline', '2026-01-05T10:00:00Z', '{}', '{}', '[]'), " +
        "(2, 'f2', 'f1', 'notice', '2026-03-02T10:00:00Z', '{}', '{}', '[]')",
    ),
    env.DB.prepare(
      "INSERT INTO deliveries (publication_id, subscriber_id, chunk, status, email, updated_at, sent_at, message_id, " +
        "deadline, customer_id, audience, delivered_at) VALUES (2, ?1, 0, 'sent', ?2, '2026-03-02T10:01:00Z', " +
        "'2026-03-02T10:01:00Z', 'msg-1', '2026-03-16', ?3, '{\"region\":\"uk\",\"cohort\":\"legacy\"}', '2026-03-02T10:02:00Z')",
    ).bind(contact.id, contact.email, externalId),
    env.DB.prepare(
      "INSERT INTO objections (id, publication_id, subscriber_id, email, organisation, reason, deadline, created_at, " +
        "customer_id, changes) VALUES ('obj-1', 2, ?1, ?2, 'Nordlys', 'No', '2026-03-16', '2026-03-05T09:00:00Z', ?3, '[\"c-1\"]')",
    ).bind(contact.id, contact.email, externalId),
  ]);
  return contact.id;
}

describe("GET /api/admin/customers/{externalId}", () => {
  it("shows the customer with its notice history: deliveries with their publication, and its objections", async () => {
    await put("C-1001", NORDLYS);
    const contactId = await noticeHistory("C-1001");
    const res = await admin("/api/admin/customers/C-1001");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      externalId: "C-1001",
      notices: [
        {
          publicationId: 2,
          fingerprint: "f2",
          contactId,
          status: "sent",
          audience: { region: "uk", cohort: "legacy" },
          deliveredAt: "2026-03-02T10:02:00Z",
          messageId: "msg-1",
          deadline: "2026-03-16",
        },
      ],
      objections: [{ id: "obj-1", publicationId: 2, changes: ["c-1"], state: "received", late: false }],
    });
    expect((await admin("/api/admin/customers/C-404")).status).toBe(404);
  });
});

describe("DELETE /api/admin/customers/{externalId}", () => {
  it("ends the contract and keeps every evidence row; the customer leaves the list and no longer counts as present", async () => {
    await put("C-1001", NORDLYS);
    await noticeHistory("C-1001");
    const before = await snapshot();
    const res = await admin("/api/admin/customers/C-1001", { method: "DELETE" });
    expect(res.status).toBe(200);
    const { endedAt } = (await res.json()) as { endedAt: string };
    expect(endedAt).toMatch(/^\d{4}-\d\d-\d\dT/);

    const after = await snapshot();
    for (const table of ["contact_tokens", "customer_contacts", "deliveries", "objections"]) {
      expect(after[table], table).toEqual(before[table]);
    }
    const detail = (await (await admin("/api/admin/customers/C-1001")).json()) as Record<string, unknown[]>;
    expect(detail).toMatchObject({ endedAt, notices: [{}], objections: [{}] });
    // Ending twice is one end: the date stays the first.
    expect(await (await admin("/api/admin/customers/C-1001", { method: "DELETE" })).json()).toMatchObject({ endedAt });
    expect((await admin("/api/admin/customers/C-404", { method: "DELETE" })).status).toBe(404);

    // An ended customer is not under contract: a merge import does not count it as existing, and re-creating it
    // starts the contract again with the contacts it had, registering no one twice.
    const recreated = await put("C-1001", NORDLYS);
    expect(await recreated.json()).toMatchObject({ status: "created", customer: { endedAt: null } });
    expect(registrationsTo(await outbox(), "dpo@nordlys.example")).toHaveLength(1);
  });
});

const CSV_HEADER = "externalId;name;region;contractDate;cohort;locale;contactEmail;contactName;contactLocale";
const GOOD_CSV = `\uFEFF${CSV_HEADER}\r
C-1001;"Nordlys; A/S";uk;2023-03-14;;en;dpo@nordlys.example;Data Protection Officer;\r
C-1001;;;;;;legal@nordlys.example;;da\r
C-1002;Fjord ApS;uk;2024-01-10;;da;privacy@fjord.example;;\r
C-1003;Maple Ltd;ca;2024-02-01;;en;dpo@maple.example;;\r
`;

describe("POST /api/admin/customers/import", () => {
  it("imports CSV (BOM, `;`, CRLF, a customer over two rows); the same file again is all unchanged", async () => {
    const res = await importFile(GOOD_CSV, "text/csv; charset=utf-8");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      mode: "merge",
      dryRun: false,
      counts: { created: 3, updated: 0, unchanged: 0, removed: 0 },
      created: ["C-1001", "C-1002", "C-1003"],
    });
    const c1001 = (await (await admin("/api/admin/customers/C-1001")).json()) as {
      name: string;
      contacts: { email: string; locale: string | null }[];
    };
    expect(c1001.name).toBe("Nordlys; A/S");
    expect(c1001.contacts.map((k) => [k.email, k.locale])).toEqual([
      ["dpo@nordlys.example", null],
      ["legal@nordlys.example", "da"],
    ]);
    expect(await outbox()).toHaveLength(4);
    const before = await snapshot();

    const again = await importFile(GOOD_CSV, "text/csv");
    expect(await again.json()).toMatchObject({ counts: { created: 0, updated: 0, unchanged: 3, removed: 0 } });
    expect(await snapshot()).toEqual(before);
  });

  it("imports JSON lines under either media type, and `full-sync` ends the contracts of customers not listed", async () => {
    await importFile(GOOD_CSV, "text/csv");
    const lines = [
      JSON.stringify({ externalId: "C-1001", ...NORDLYS, name: "Nordlys; A/S" }),
      "",
      JSON.stringify({ externalId: "C-2001", ...NORDLYS, region: "eea", contractDate: "2024-05-01" }),
    ].join("\n");
    const merged = await importFile(lines, "application/x-ndjson");
    expect(await merged.json()).toMatchObject({
      counts: { created: 1, updated: 1, unchanged: 0, removed: 0 },
      updated: [{ externalId: "C-1001", fields: ["contacts"] }],
    });
    const synced = await importFile(lines, "application/jsonl", "?mode=full-sync");
    expect(await synced.json()).toMatchObject({
      mode: "full-sync",
      counts: { created: 0, updated: 0, unchanged: 2, removed: 2 },
      removed: ["C-1002", "C-1003"],
    });
    const ended = await env.DB.prepare("SELECT external_id FROM customers WHERE ended_at IS NOT NULL ORDER BY 1").all();
    expect(ended.results).toEqual([{ external_id: "C-1002" }, { external_id: "C-1003" }]);
  });

  it("reports a dry run (`?dryRun=1`) without writing anything", async () => {
    await importFile(GOOD_CSV, "text/csv");
    const before = await snapshot();
    const changed = GOOD_CSV.replace("Fjord ApS", "Fjord A/S").replace(
      /C-1003.*\r\n/,
      "C-1004;Birch Oy;eea;2024-03-01;;en;dpo@birch.example;;\r\n",
    );
    const res = await importFile(changed, "text/csv", "?dryRun=1&mode=full-sync");
    expect(await res.json()).toMatchObject({
      dryRun: true,
      counts: { created: 1, updated: 1, unchanged: 1, removed: 1 },
      created: ["C-1004"],
      updated: [{ externalId: "C-1002", fields: ["name"] }],
      unchanged: ["C-1001"],
      removed: ["C-1003"],
    });
    expect(await snapshot()).toEqual(before);
  });

  it("refuses a file with bad rows: 422 listing every error as {line, column, rule, detail}, and writes nothing", async () => {
    await importFile(GOOD_CSV, "text/csv");
    const before = await snapshot();
    const bad = `${CSV_HEADER}
C-1;Good A/S;uk;2024-01-10;;en;ok@good.example;;
C-2;Bad Region;fr;2024-01-10;;en;a@bad.example;;
C-3;Bad Date;uk;2023-02-30;;en;b@bad.example;;
C-4;No Address;uk;2024-01-10;;en;not-an-address;;
C-5;;uk;2024-01-10;;en;c@bad.example;;
C-6;Twice A/S;uk;2024-01-10;;en;d@bad.example;;
C-6;Twice ApS;;;;;e@bad.example;;
`;
    const res = await importFile(bad, "text/csv");
    expect(res.status).toBe(422);
    expect(res.headers.get("Content-Type")).toContain("application/problem+json");
    const problem = (await res.json()) as { detail: string; errors: Record<string, unknown>[] };
    expect(problem.detail).toContain("nothing was written");
    expect(problem.errors.map(({ line, column, rule }) => ({ line, column, rule }))).toEqual([
      { line: 3, column: "region", rule: "unknown-region" },
      { line: 4, column: "contractDate", rule: "invalid-date" },
      { line: 5, column: "contactEmail", rule: "invalid-email" },
      { line: 6, column: "name", rule: "required" },
      { line: 8, column: "name", rule: "duplicate-external-id" },
    ]);
    for (const error of problem.errors) expect(typeof error.detail).toBe("string");
    expect(await snapshot()).toEqual(before);

    const jsonl = await importFile('{"externalId":"C-9"\nnot json', "application/x-ndjson");
    expect(jsonl.status).toBe(422);
    expect(((await jsonl.json()) as { errors: { line: number }[] }).errors.map((e) => e.line)).toEqual([1, 2]);
    expect(await snapshot()).toEqual(before);
  });

  it("answers 415 for another content type and 422 for an unknown mode", async () => {
    expect((await importFile("{}", "application/json")).status).toBe(415);
    expect((await importFile(GOOD_CSV, "text/csv", "?mode=replace")).status).toBe(422);
    expect(await count("SELECT COUNT(*) AS n FROM customers")).toBe(0);
  });
});

describe("notice contacts", () => {
  it("get one registration email with a contact-page link and RFC 8058 one-click headers", async () => {
    await put("C-1001", NORDLYS);
    await put("C-1001", NORDLYS);
    const [email, ...more] = registrationsTo(await outbox(), "dpo@nordlys.example");
    expect(more).toHaveLength(0);
    expect(email?.subject).toBe("You are the notice contact of Nordlys A/S for sub-processor changes");
    const token = tokenOf(email as OutboxEmail);
    expect(email?.headers["List-Unsubscribe"]).toBe(
      `<${ORIGIN}/api/customers/contacts/unsubscribe?token=${token}&locale=en>`,
    );
    expect(email?.headers["List-Unsubscribe-Post"]).toBe("List-Unsubscribe=One-Click");
    // Only the hash of the token is stored.
    expect(await count("SELECT COUNT(*) AS n FROM contact_tokens WHERE token_hash = ?1", token)).toBe(0);

    const page = await call(`/en/customer/contact?token=${token}`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("dpo@nordlys.example is the notice contact of Nordlys A/S.");
    expect(html).toContain('action="/api/customers/contacts/replace"');
    expect((await call("/en/customer/contact?token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")).status).toBe(400);
  });

  it("one-click unsubscribe answers 200 without a redirect; the vendor is alerted when no active contact is left", async () => {
    await put("C-1001", NORDLYS);
    const emails = await outbox();
    const oneClick = (to: string) => {
      const url = registrationsTo(emails, to)[0]?.headers["List-Unsubscribe"]?.slice(1, -1) ?? "";
      return call(url, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: "List-Unsubscribe=One-Click",
        redirect: "manual",
      });
    };
    const alerts = async () =>
      (await outbox(env.VENDOR_ALERT_EMAIL)).filter((e) => e.subject.includes("no notice contact"));

    const first = await oneClick("dpo@nordlys.example");
    expect(first.status).toBe(200);
    expect(first.headers.get("Location")).toBeNull();
    expect(await alerts()).toHaveLength(0); // legal@ is still active

    expect((await oneClick("legal@nordlys.example")).status).toBe(200);
    const [alert, ...moreAlerts] = await alerts();
    expect(moreAlerts).toHaveLength(0);
    expect(alert?.subject).toBe("Customer Nordlys A/S (C-1001) has no notice contact left");
    expect(alert?.text).toContain("legal@nordlys.example");

    // Repeating the one-click changes nothing and alerts nobody again; the import keeps the unsubscribed contacts so.
    expect((await oneClick("legal@nordlys.example")).status).toBe(200);
    expect(await alerts()).toHaveLength(1);
    expect(await (await put("C-1001", NORDLYS)).json()).toMatchObject({ status: "unchanged" });
    const statuses = await env.DB.prepare("SELECT DISTINCT status FROM customer_contacts").all();
    expect(statuses.results).toEqual([{ status: "unsubscribed" }]);
  });

  it("may name a different contact: it is registered, the old one removed, the vendor told", async () => {
    await put("C-1001", NORDLYS);
    const token = tokenOf(registrationsTo(await outbox(), "dpo@nordlys.example")[0] as OutboxEmail);
    const res = await call("/api/customers/contacts/replace", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ token, email: "Privacy@Nordlys.example", name: "Privacy team" }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "replaced", contact: "privacy@nordlys.example" });
    expect(registrationsTo(await outbox(), "privacy@nordlys.example")).toHaveLength(1);
    const alert = (await outbox(env.VENDOR_ALERT_EMAIL))[0];
    expect(alert?.subject).toBe("Customer Nordlys A/S (C-1001) named a new notice contact");
    const contacts = (await (await admin("/api/admin/customers/C-1001")).json()) as {
      contacts: { email: string; status: string }[];
    };
    expect(contacts.contacts.map((k) => [k.email, k.status])).toEqual([
      ["dpo@nordlys.example", "removed"],
      ["legal@nordlys.example", "active"],
      ["privacy@nordlys.example", "active"],
    ]);
    // The removed contact's token no longer works.
    expect((await call(`/en/customer/contact?token=${token}`)).status).toBe(400);
  });
});

interface RecordedStatement {
  sql: string;
  params: unknown[];
}

/** D1 that records each batch's statements and their bound parameters, then runs them unchanged. */
function recordingDb(db: D1Database): { db: D1Database; batches: RecordedStatement[][] } {
  const batches: RecordedStatement[][] = [];
  const seen = new WeakMap<D1PreparedStatement, RecordedStatement>();
  const real = new WeakMap<D1PreparedStatement, D1PreparedStatement>();
  const wrap = (stmt: D1PreparedStatement, recorded: RecordedStatement): D1PreparedStatement => {
    const proxy = new Proxy(stmt, {
      get(target, prop) {
        if (prop === "bind") return (...args: unknown[]) => wrap(target.bind(...args), { ...recorded, params: args });
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    seen.set(proxy, recorded);
    real.set(proxy, stmt);
    return proxy;
  };
  const proxy = new Proxy(db, {
    get(target, prop) {
      if (prop === "prepare") return (sql: string) => wrap(target.prepare(sql), { sql, params: [] });
      if (prop === "batch") {
        return (stmts: D1PreparedStatement[]) => {
          batches.push(stmts.map((st) => seen.get(st) ?? { sql: "?", params: [] }));
          return target.batch(stmts.map((st) => real.get(st) ?? st));
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { db: proxy, batches };
}

describe("an import of 10,000 customers with 2 contacts each", () => {
  it("is written in one batch under D1's limits, and the same file again is all unchanged", async () => {
    const rows = [CSV_HEADER];
    for (let i = 0; i < 10_000; i++) {
      const id = `C-${String(i).padStart(5, "0")}`;
      rows.push(
        `${id};Customer ${i} A/S;${["uk", "de", "ca", "eea", "ch"][i % 5]};2023-0${1 + (i % 9)}-15;;da;dpo@c${i}.example;;`,
      );
      rows.push(`${id};;;;;;legal@c${i}.example;;en`);
    }
    const csv = `${rows.join("\n")}\n`;
    const recording = recordingDb(env.DB);
    let started = performance.now();
    const res = await callWorker(
      "/api/admin/customers/import",
      {
        method: "POST",
        headers: { ...AUTH, "Content-Type": "text/csv" },
        body: csv,
      },
      { DB: recording.db, NOTICE_QUEUE: captured },
    );
    const importMs = performance.now() - started;
    expect(res.status).toBe(200);
    // One batch (one transaction) holds every write; each statement stays under D1's limits: at most 100 bound
    // parameters, no string parameter over 2,000,000 bytes, and the batch under 50 queries (Workers Free).
    const writes = recording.batches.filter((b) => b.some((st) => st.sql.startsWith("INSERT INTO customers ")));
    expect(writes).toHaveLength(1);
    const [write = []] = writes;
    expect(write.length).toBeLessThan(50);
    for (const statement of write) {
      expect(statement.params.length).toBeLessThanOrEqual(100);
      for (const p of statement.params) {
        if (typeof p === "string") expect(new TextEncoder().encode(p).byteLength).toBeLessThan(2_000_000);
      }
    }
    expect(write.filter((st) => st.sql.startsWith("INSERT INTO customer_contacts ")).length).toBeGreaterThan(1);
    expect(await res.json()).toMatchObject({ counts: { created: 10_000, updated: 0, unchanged: 0, removed: 0 } });
    expect(await count("SELECT COUNT(*) AS n FROM customer_contacts WHERE status = 'active'")).toBe(20_000);
    expect(await count("SELECT COUNT(*) AS n FROM contact_tokens")).toBe(20_000);
    // Not one email from inside the request: 200 queue messages of at most 100 registrations (one provider call each).
    expect(await count("SELECT COUNT(*) AS n FROM outbox")).toBe(0);
    expect(queued).toHaveLength(200);
    expect(queued.every((m) => "registrations" in m && m.registrations.length === 100)).toBe(true);
    started = performance.now();
    await drain(queued.splice(0), FAST);
    const sendMs = performance.now() - started;
    expect(await count("SELECT COUNT(*) AS n FROM outbox")).toBe(20_000);
    expect(await count("SELECT COUNT(DISTINCT to_address) AS n FROM outbox")).toBe(20_000);

    started = performance.now();
    const again = await importFile(csv, "text/csv", "?dryRun=1");
    const dryRunMs = performance.now() - started;
    expect(await again.json()).toMatchObject({ counts: { created: 0, updated: 0, unchanged: 10_000, removed: 0 } });
    console.log(
      `import 10,000 × 2 (${(csv.length / 1e6).toFixed(1)} MB CSV): ${Math.round(importMs)} ms in one batch of ${write.length} statements, then 20,000 registration emails through 200 queue messages ${Math.round(sendMs)} ms; dry run of the same file ${Math.round(dryRunMs)} ms`,
    );
  }, 120_000);
});

describe("registration emails go through the notice queue, exactly once", () => {
  /** `n` customers with one contact each, as a CSV. */
  const csvOf = (n: number) =>
    [
      CSV_HEADER,
      ...Array.from({ length: n }, (_, i) => `Q-${i};Queue ${i} A/S;uk;2024-01-15;;en;dpo@q${i}.example;;`),
    ].join("\n");
  const importQueued = (csv: string, bindings: Partial<Env> = {}) =>
    callWorker(
      "/api/admin/customers/import",
      { method: "POST", headers: { ...AUTH, "Content-Type": "text/csv" }, body: csv },
      { NOTICE_QUEUE: captured, ...bindings },
    );

  it("the import request emails nobody itself; each message is one provider call; a message delivered twice sends once", async () => {
    expect((await importQueued(csvOf(150))).status).toBe(200);
    expect(await outbox()).toHaveLength(0);
    const messages = queued.splice(0);
    expect(messages.map((m) => ("registrations" in m ? m.registrations.length : -1))).toEqual([100, 50]);
    await drain(messages, FAST);
    const emails = await outbox();
    expect(emails).toHaveLength(150);
    expect(new Set(emails.map((e) => e.to)).size).toBe(150);
    expect(await count("SELECT COUNT(*) AS n FROM contact_tokens WHERE registration_sent_at IS NULL")).toBe(0);
    // At-least-once delivery: the same messages again send nothing.
    await drain(messages, FAST);
    expect(await outbox()).toHaveLength(150);
    // A retried import (the answer was lost): every contact is unchanged, nothing is queued.
    expect(await (await importQueued(csvOf(150))).json()).toMatchObject({ counts: { unchanged: 150 } });
    expect(queued).toHaveLength(0);
  });

  it("a message that arrives before its rows are written is retried, sent once they are, given up if never", async () => {
    await put("C-1001", { ...NORDLYS, contacts: [NORDLYS.contacts[0]] });
    const id = crypto.randomUUID();
    const message = { kind: "contact-registrations" as const, registrations: [id] };
    const once = (attempts: number) => deliver([{ id: "r", body: message, attempts }], FAST);
    expect((await once(1)).outcomes.get("r")).toBe("retry");
    // The import's write lands: a new contact with this registration's token.
    const { hash } = await contactRegistrationToken(env.NOTICE_TOKEN_KEY, id);
    await env.DB.batch([
      env.DB.prepare(
        "INSERT INTO customer_contacts (id, customer_id, email, name, locale, status, created_at, updated_at) " +
          "VALUES ('k-late', 'C-1001', 'late@nordlys.example', NULL, 'da', 'active', ?1, ?1)",
      ).bind("2026-11-23T10:00:00.000Z"),
      env.DB.prepare("INSERT INTO contact_tokens (token_hash, contact_id, created_at) VALUES (?1, 'k-late', ?2)").bind(
        hash,
        "2026-11-23T10:00:00.000Z",
      ),
    ]);
    expect((await once(2)).outcomes.get("r")).toBe("ack");
    const [email, ...more] = await outbox("late@nordlys.example");
    expect(more).toHaveLength(0);
    // In the contact's language, with the token whose hash was written.
    const danish = contactRegisteredEmail({
      locale: "da",
      vendorName: vendor.name,
      customerName: "Nordlys A/S",
      contactUrl: "",
      oneClickUrl: "",
    });
    expect(email?.subject).toBe(danish.subject);
    expect(await sha256Hex(tokenOf(email as OutboxEmail))).toBe(hash);
    // A registration whose write never happened is given up after the last attempt, sending nothing.
    const lost = { kind: "contact-registrations" as const, registrations: [crypto.randomUUID()] };
    expect((await deliver([{ id: "x", body: lost, attempts: MAX_ATTEMPTS }], FAST)).outcomes.get("x")).toBe("ack");
  });

  it("a contact unsubscribed or removed before its message is sent gets nothing", async () => {
    await importQueued(csvOf(3));
    await env.DB.prepare("UPDATE customer_contacts SET status = 'unsubscribed' WHERE email = 'dpo@q0.example'").run();
    await env.DB.prepare("UPDATE customers SET ended_at = '2026-11-23T10:00:00.000Z' WHERE external_id = 'Q-1'").run();
    await drain(queued.splice(0), FAST);
    expect((await outbox()).map((e) => e.to)).toEqual(["dpo@q2.example"]);
  });

  it("stays within the shared RESEND_MAX_RPS budget, also beside a second consumer, and sends each contact once", async () => {
    const fake = resendAccount(env.RESEND_BASE_URL, "re_registrations_budget");
    await fake.reset();
    await fake.setRateLimit(2);
    const via = { EMAIL_TRANSPORT: "resend", RESEND_API_KEY: fake.apiKey, RESEND_MAX_RPS: "2" } as Partial<Env>;
    await importQueued(csvOf(450));
    let pending = queued.splice(0).map((body, i) => ({ id: `m${i}`, body, attempts: 1 }));
    expect(pending).toHaveLength(5);
    const since = Date.now();
    // Two consumers at once (two isolates): one budget in D1's send_log between them. A message the provider
    // refused after all (its clock counts arrivals, which the network may bunch) comes back, as the queue would
    // bring it, and is sent once.
    for (let round = 0; pending.length > 0; round++) {
      expect(round, "rounds").toBeLessThan(5);
      const results = await Promise.all([deliver(pending.slice(0, 3), via), deliver(pending.slice(3), via)]);
      const outcomes = new Map(results.flatMap((r) => [...r.outcomes]));
      pending = pending.filter((m) => outcomes.get(m.id) !== "ack").map((m) => ({ ...m, attempts: m.attempts + 1 }));
    }
    // The budget: any three consecutive provider calls left more than a second apart (2 a second).
    const { results } = await env.DB.prepare(
      "SELECT at_ms FROM send_log WHERE name = 'resend' AND at_ms >= ?1 ORDER BY at_ms",
    )
      .bind(since)
      .all<{ at_ms: number }>();
    const departures = results.map((r) => r.at_ms);
    const state = await fake.state();
    const calls = state.requests.filter((r) => r.path === "/emails/batch");
    expect(departures).toHaveLength(calls.length);
    for (let i = 2; i < departures.length; i++) {
      expect((departures[i] ?? 0) - (departures[i - 2] ?? 0)).toBeGreaterThan(1000);
    }
    expect(calls.filter((r) => r.reply === "ok")).toHaveLength(5);
    expect(state.delivered).toHaveLength(450);
    expect(new Set(state.delivered.map((d) => d.to[0])).size).toBe(450);
  }, 60_000);
});
