/**
 * The evidence of a publication (DPA 5.2–5.5) from a ledger written with SQL: per customer what it was told, when it
 * was received, its deadlines, its objections, and consent deemed once the deadline has passed — derived as of the
 * request, so moving `now` past the deadline is all it takes. A customer no contact of which could be reached is
 * listed as not notified and alerted to the vendor once.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { EVIDENCE_CSV_COLUMNS } from "../../domain/evidence.ts";
import { scheduledTasks } from "../../worker/cron.ts";
import { publicationsToAlert } from "../../worker/db/evidence.ts";
import { publicationEvidence } from "../../worker/evidence/publication-evidence.ts";
import { ADDED, addCustomer, addDelivery, publishNotice, resetCustomerTables } from "./customer-fixtures.ts";
import { call, outbox } from "./helpers.ts";

const admin = { headers: { Authorization: `Bearer ${env.ADMIN_TOKEN}` } };
// Sent and delivered Monday 2 November 2026, 10:00 in Copenhagen: received that day, so the 10 Danish working days
// end on Monday 16 November (no holiday between).
const SENT = "2026-11-02T09:00:00.000Z";
const DEADLINE = "2026-11-16";

async function objection(customer: string, contactId: string, at: string): Promise<void> {
  await env.DB.prepare(
    "INSERT INTO objections (id, publication_id, subscriber_id, email, organisation, reason, deadline, created_at, " +
      "customer_id, changes, state, late) VALUES (?1, 2, ?2, 'x@example.com', ?3, 'r', ?4, ?5, ?3, ?6, 'received', 0)",
  )
    .bind(`obj-${customer}`, contactId, customer, DEADLINE, at, JSON.stringify([ADDED.id]))
    .run();
}

/** Six customers, one of each kind the evidence tells apart. */
async function ledger(): Promise<void> {
  const delivered = async (customer: string, email: string, extra: Record<string, unknown> = {}) => {
    const ids = await addCustomer({ externalId: customer, name: `${customer} Ltd`, contacts: [{ email }] });
    const id = ids.get(email) as string;
    await addDelivery({
      recipientId: id,
      customerId: customer,
      email,
      deliveredAt: SENT,
      deadline: DEADLINE,
      ...extra,
    });
    return id;
  };
  await delivered("UK-SILENT", "dpo@silent.example");
  await objection("UK-OBJECTS", await delivered("UK-OBJECTS", "dpo@objects.example"), "2026-11-10T12:00:00.000Z");
  await objection("UK-LATE", await delivered("UK-LATE", "dpo@late.example"), "2026-11-18T12:00:00.000Z");
  await delivered("UK-PENDING", "dpo@pending.example", { deliveredAt: null });
  await addCustomer({
    externalId: "CA-1",
    name: "Canada Inc",
    region: "ca",
    concerned: false,
    contacts: [{ email: "p@ca.example" }],
  });
  const eea = await addCustomer({
    externalId: "EEA-1",
    name: "Europa GmbH",
    region: "eea",
    contacts: [{ email: "bounced@eea.example" }, { email: "blocked@eea.example", status: "suppressed" }],
  });
  await addDelivery({
    recipientId: eea.get("bounced@eea.example") as string,
    customerId: "EEA-1",
    email: "bounced@eea.example",
    bouncedAt: "2026-11-02T09:05:00.000Z",
  });
  // A self-subscriber's delivery of the same notice is no customer's evidence.
  await addDelivery({ recipientId: "sub-1", customerId: null, email: "someone@example.com" });
}

async function evidenceAt(now: string) {
  const work: Promise<unknown>[] = [];
  const e = await publicationEvidence(env, 2, new Date(now), (w) => work.push(w));
  await Promise.all(work);
  return e;
}

beforeEach(async () => {
  await resetCustomerTables();
});

describe("consent deemed (DPA 5.3) follows the clock", () => {
  it("is deemed the day after the honoured deadline, only for notified customers without an on-time objection", async () => {
    await publishNotice();
    await ledger();
    // 21:00 on the deadline day in Copenhagen: still within the window.
    const before = await evidenceAt("2026-11-16T20:00:00.000Z");
    expect(before.totals.deemed).toBe(0);
    expect(before.customers.every((c) => c.consentDeemedOn === undefined)).toBe(true);
    // 01:30 the next day in Copenhagen (00:30 UTC): the window has closed.
    const after = await evidenceAt("2026-11-17T00:30:00.000Z");
    const byId = new Map(after.customers.map((c) => [c.customer, c]));
    expect(byId.get("UK-SILENT")).toMatchObject({
      status: "notified",
      honouredDeadline: DEADLINE,
      consentDeemedOn: "2026-11-17",
    });
    // A late objection (18 November) is recorded, but does not stop consent; an on-time one does.
    const late = (await evidenceAt("2026-11-19T00:00:00.000Z")).customers.find((c) => c.customer === "UK-LATE");
    expect(late?.consentDeemedOn).toBe("2026-11-17");
    expect(late?.objections[0]?.late).toBe(true);
    expect(byId.get("UK-OBJECTS")?.consentDeemedOn).toBeUndefined();
    expect(byId.get("UK-OBJECTS")?.objections[0]).toMatchObject({
      late: false,
      state: "received",
      changes: [ADDED.id],
    });
    expect(byId.get("UK-PENDING")).toMatchObject({ status: "pending", consentDeemedOn: undefined });
    expect(byId.get("CA-1")).toMatchObject({ status: "not-concerned", concerned: false, consentDeemedOn: undefined });
    expect(byId.get("CA-1")?.notConcernedReason).toContain("no row of its Annex C changed");
    expect(byId.get("EEA-1")).toMatchObject({ status: "not-notified", notNotified: true, consentDeemedOn: undefined });
    expect(after.totals).toMatchObject({
      customers: 6,
      concerned: 5,
      notified: 3,
      pending: 1,
      notNotified: 1,
      deemed: 2,
    });
  });
});

describe("GET /api/admin/publications/{id}/evidence(.csv|.html)", () => {
  it("JSON: header with publication, fingerprints and totals; a contact row per contact with provider ids", async () => {
    await publishNotice();
    await ledger();
    const res = await call("/api/admin/publications/2/evidence", admin);
    expect(res.status).toBe(200);
    const e = (await res.json()) as Awaited<ReturnType<typeof evidenceAt>>;
    expect(e.publication).toEqual({
      id: "2",
      fingerprint: "f2",
      previousFingerprint: "f1",
      publishedAt: "2026-11-02T08:00:00.000Z",
    });
    // The request's own time: every deadline of the ledger has passed.
    expect(Date.parse(e.asOf)).toBeGreaterThan(Date.parse("2026-11-17T00:00:00Z"));
    expect(e.totals).toMatchObject({ objected: 2, deemed: 2, notNotified: 1, sent: 5, delivered: 3, bounced: 1 });
    const eea = e.customers.find((c) => c.customer === "EEA-1");
    expect(eea?.contacts).toEqual([
      expect.objectContaining({ email: "blocked@eea.example", status: "not-sent", notSentBecause: "suppressed" }),
      expect.objectContaining({
        email: "bounced@eea.example",
        status: "bounced",
        messageId: "msg-bounced@eea.example",
      }),
    ]);
    expect(e.customers.map((c) => c.customer)).not.toContain("sub-1");
  });

  it("CSV: the documented columns, one row per customer contact, deemed consent and not notified", async () => {
    await publishNotice();
    await ledger();
    const res = await call("/api/admin/publications/2/evidence.csv", admin);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toContain("publication-2-evidence.csv");
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = new TextDecoder().decode(bytes).trimEnd().split("\r\n");
    expect(lines[0]).toBe(EVIDENCE_CSV_COLUMNS.join(","));
    expect(lines).toHaveLength(1 + 7);
    const col = (line: string, name: (typeof EVIDENCE_CSV_COLUMNS)[number]) =>
      line.split(",")[EVIDENCE_CSV_COLUMNS.indexOf(name)];
    const silent = lines.find((l) => l.includes("dpo@silent.example")) ?? "";
    expect(col(silent, "consent_deemed_on")).toBe("2026-11-17");
    expect(col(silent, "honoured_deadline")).toBe(DEADLINE);
    expect(col(silent, "provider_message_id")).toBe("msg-dpo@silent.example");
    const bounced = lines.find((l) => l.includes("bounced@eea.example")) ?? "";
    expect(col(bounced, "not_notified")).toBe("yes");
    expect(col(bounced, "consent_deemed_on")).toBe("");
  });

  it("HTML: a printable page with the header and every customer, no scripts and no inline styles", async () => {
    await publishNotice();
    await ledger();
    const res = await call("/api/admin/publications/2/evidence.html", admin);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(res.headers.get("content-security-policy")).toContain("style-src 'self'");
    const page = await res.text();
    expect(page).toContain("<h1>Evidence of publication 2</h1>");
    expect(page).toContain("<code>f2</code>");
    expect(page).toContain("<code>f1</code>");
    expect(page).toContain('<link rel="stylesheet" href="/styles/site.css">');
    for (const id of ["UK-SILENT", "UK-OBJECTS", "UK-LATE", "UK-PENDING", "CA-1", "EEA-1"]) expect(page).toContain(id);
    expect(page).toContain("NOT NOTIFIED");
    expect(page).toContain("2026-11-17");
    expect(page).not.toMatch(/<script|style="|<style/);
  });

  it("refuses without the admin token and answers 404 for an unknown publication", async () => {
    await publishNotice();
    expect((await call("/api/admin/publications/2/evidence")).status).toBe(401);
    const res = await call("/api/admin/publications/9/evidence.csv", admin);
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
  });
});

describe("a customer not notified", () => {
  it("is alerted to the vendor once the fan-out is complete, and only once", async () => {
    await publishNotice();
    await ledger();
    await call("/api/admin/publications/2/evidence", admin);
    await call("/api/admin/publications/2/evidence.csv", admin);
    const alerts = await outbox(env.VENDOR_ALERT_EMAIL);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.subject).toBe("Not notified / ikke varslet: 1 customer(s), notice 2");
    expect(alerts[0]?.text).toContain("EEA-1 Europa GmbH (eea, current)");
    expect(alerts[0]?.text).not.toContain("UK-PENDING");
    const alertedAt = await env.DB.prepare(
      "SELECT not_notified_alerted_at FROM publication_customers WHERE customer_id = 'EEA-1'",
    ).first("not_notified_alerted_at");
    expect(alertedAt).not.toBeNull();
    const res = await call("/api/admin/publications/2/evidence", admin);
    expect(((await res.json()) as { alerted: Record<string, string> }).alerted).toEqual({ "EEA-1": alertedAt });
  });

  it("is not alerted while the fan-out is still running (its contacts may not have been sent to yet)", async () => {
    await publishNotice({ fanoutCompletedAt: null });
    await ledger();
    const res = await call("/api/admin/publications/2/evidence", admin);
    expect(((await res.json()) as { totals: { notNotified: number } }).totals.notNotified).toBe(1);
    expect(await outbox(env.VENDOR_ALERT_EMAIL)).toHaveLength(0);
  });
});

describe("evidence as of an instant (?asOf, an auditor's 'what was the state on date X')", () => {
  const asOf = (path: string, instant: string) =>
    call(`/api/admin/publications/2/${path}?asOf=${encodeURIComponent(instant)}`, admin);
  type Json = Awaited<ReturnType<typeof evidenceAt>>;

  it("leaves out what the ledger records after the instant: an objection received later does not count", async () => {
    await publishNotice();
    await ledger();
    // 01:30 on 17 November in Copenhagen: UK-LATE's objection (18 November) had not been received yet.
    const res = await asOf("evidence", "2026-11-17T01:30:00+01:00");
    expect(res.status).toBe(200);
    const e = (await res.json()) as Json;
    expect(e.asOf).toBe("2026-11-17T00:30:00.000Z");
    const byId = new Map(e.customers.map((c) => [c.customer, c]));
    expect(byId.get("UK-LATE")).toMatchObject({ objections: [], consentDeemedOn: "2026-11-17" });
    expect(byId.get("UK-OBJECTS")?.objections).toHaveLength(1);
    expect(e.totals).toMatchObject({ objected: 1, deemed: 2 });
    // The same ledger as of now counts the late objection too.
    const now = (await (await call("/api/admin/publications/2/evidence", admin)).json()) as Json;
    expect(now.totals.objected).toBe(2);
  });

  it("before anything was sent, nobody is notified or deemed, and nobody is alerted about it", async () => {
    await publishNotice();
    await ledger();
    const e = (await (await asOf("evidence", "2026-11-02T08:30:00Z")).json()) as Json;
    expect(e.totals).toMatchObject({ notified: 0, pending: 0, sent: 0, delivered: 0, bounced: 0, deemed: 0 });
    const silent = e.customers.find((c) => c.customer === "UK-SILENT")?.contacts[0];
    expect(silent?.status).toBe("not-sent");
    expect(silent?.sentAt).toBeUndefined();
    // EEA-1's only reachable address bounced at 09:05: sent and pending at 09:02, not notified from 09:05.
    const eea = async (instant: string) =>
      ((await (await asOf("evidence", instant)).json()) as Json).customers.find((c) => c.customer === "EEA-1");
    expect(await eea("2026-11-02T09:02:00Z")).toMatchObject({ status: "pending", notNotified: false });
    expect(await eea("2026-11-02T09:05:00Z")).toMatchObject({ status: "not-notified", notNotified: true });
    // Evidence of a past instant is not the present state: the vendor's not-notified alert waits for a real look.
    expect(await outbox(env.VENDOR_ALERT_EMAIL)).toHaveLength(0);
  });

  it("shows an objection in the state its last step by then gave it", async () => {
    await publishNotice();
    await ledger();
    await env.DB.batch([
      env.DB.prepare(
        "INSERT INTO objection_events (objection_id, state, outcome, note, actor, created_at) VALUES " +
          "('obj-UK-OBJECTS', 'received', NULL, 'received', 'customer', '2026-11-10T12:00:00.000Z'), " +
          "('obj-UK-OBJECTS', 'alternative-proposed', NULL, 'EU host', 'staff', '2026-11-12T12:00:00.000Z'), " +
          "('obj-UK-OBJECTS', 'resolved', 'alternative-accepted', 'agreed', 'staff', '2026-11-20T12:00:00.000Z')",
      ),
      env.DB.prepare(
        "UPDATE objections SET state = 'resolved', outcome = 'alternative-accepted' WHERE id = 'obj-UK-OBJECTS'",
      ),
    ]);
    const objection = async (instant: string) =>
      ((await (await asOf("evidence", instant)).json()) as Json).customers.find((c) => c.customer === "UK-OBJECTS")
        ?.objections[0];
    expect(await objection("2026-11-11T00:00:00Z")).toMatchObject({ state: "received" });
    expect((await objection("2026-11-11T00:00:00Z"))?.outcome).toBeUndefined();
    expect(await objection("2026-11-13T00:00:00Z")).toMatchObject({ state: "alternative-proposed" });
    expect(await objection("2026-11-21T00:00:00Z")).toMatchObject({
      state: "resolved",
      outcome: "alternative-accepted",
    });
  });

  it("the CSV and the printable page take the same instant", async () => {
    await publishNotice();
    await ledger();
    const csv = await (await asOf("evidence.csv", "2026-11-16T20:00:00Z")).text();
    const silent = csv.split("\r\n").find((l) => l.includes("dpo@silent.example")) ?? "";
    expect(silent.split(",")[EVIDENCE_CSV_COLUMNS.indexOf("consent_deemed_on")]).toBe("");
    const page = await (await asOf("evidence.html", "2026-11-17T00:30:00Z")).text();
    expect(page).toContain("2026-11-17T00:30:00.000Z");
  });

  it("refuses an instant that is not one with 422 problem+json, on every evidence route", async () => {
    await publishNotice();
    for (const bad of ["2026-02-30T00:00:00Z", "2026-11-17", "2026-11-17T00:00:00", "yesterday", ""]) {
      for (const path of ["evidence", "evidence.csv", "evidence.html"]) {
        const res = await asOf(path, bad);
        expect(res.status, `${path}?asOf=${bad}`).toBe(422);
        expect(res.headers.get("content-type")).toContain("application/problem+json");
        expect(((await res.json()) as { detail: string }).detail).toContain("asOf");
      }
    }
    const unknown = await call("/api/admin/publications/2/evidence?as_of=2026-11-17T00:00:00Z", admin);
    expect(unknown.status).toBe(422);
    // Without the admin token the instant is never looked at.
    expect((await call("/api/admin/publications/2/evidence?asOf=x")).status).toBe(401);
  });
});

describe("the cron alerts a customer not notified without anyone looking at the evidence", () => {
  /** The cron's own entry (worker/cron.ts), run at `now`. */
  async function tick(now: string) {
    const task = scheduledTasks(env, new Date(now)).find(([name]) => name === "not-notified alert");
    if (!task) throw new Error("the cron has no not-notified alert");
    return task[1]();
  }

  it("alerts once per customer once the fan-out is complete; later ticks and looks alert nobody again", async () => {
    await publishNotice();
    await ledger();
    expect(await tick("2026-11-03T10:00:00.000Z")).toEqual({ 2: ["EEA-1"] });
    const alerts = await outbox(env.VENDOR_ALERT_EMAIL);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.text).toContain("EEA-1 Europa GmbH (eea, current)");
    expect(await tick("2026-11-03T10:15:00.000Z")).toEqual({});
    // UK-PENDING may still bounce, so the publication stays watched; once its delivery is proven, nothing is left to
    // alert, and the next tick does not even derive the evidence of this publication again.
    expect(await publicationsToAlert(env.DB, "2026-10-01T00:00:00.000Z")).toEqual([2]);
    await env.DB.prepare(
      "UPDATE deliveries SET delivered_at = '2026-11-03T10:16:00.000Z' WHERE email = 'dpo@pending.example'",
    ).run();
    expect(await publicationsToAlert(env.DB, "2026-10-01T00:00:00.000Z")).toEqual([]);
    await evidenceAt("2026-11-03T10:20:00.000Z");
    expect(await outbox(env.VENDOR_ALERT_EMAIL)).toHaveLength(1);
  });

  it("waits while the fan-out runs, and alerts a customer whose last address bounces later", async () => {
    await publishNotice({ fanoutCompletedAt: null });
    await ledger();
    expect(await tick("2026-11-02T09:30:00.000Z")).toEqual({});
    await env.DB.prepare(
      "UPDATE publications SET fanout_completed_at = '2026-11-02T10:00:00.000Z' WHERE sequence = 2",
    ).run();
    expect(await tick("2026-11-02T10:15:00.000Z")).toEqual({ 2: ["EEA-1"] });
    // UK-PENDING's only address bounces: it is not notified now, and the next tick says so.
    await env.DB.prepare(
      "UPDATE deliveries SET bounced_at = '2026-11-02T10:20:00.000Z' WHERE email = 'dpo@pending.example'",
    ).run();
    expect(await tick("2026-11-02T10:30:00.000Z")).toEqual({ 2: ["UK-PENDING"] });
    expect(await outbox(env.VENDOR_ALERT_EMAIL)).toHaveLength(2);
  });

  it("stops watching a publication once its notice period is over", async () => {
    await publishNotice();
    await ledger();
    // Published 2 November: 30 days later the notice could no longer come in time.
    expect(await tick("2026-12-03T00:00:00.000Z")).toEqual({});
    expect(await outbox(env.VENDOR_ALERT_EMAIL)).toHaveLength(0);
  });
});
