import { parse } from "csv-parse/sync";
import { describe, expect, it } from "vitest";
import { spreadsheetSafe } from "../../domain/csv.ts";
import type { CustomerNotice } from "../../domain/customer-notice.ts";
import {
  type ContactDelivery,
  type CustomerObjection,
  deriveEvidence,
  EVIDENCE_CSV_COLUMNS,
  type EvidenceInput,
  evidenceCsv,
} from "../../domain/evidence.ts";
import type { Customer } from "../../domain/schema/customer.ts";
import { customer, shippedVendor } from "./customer-fixtures.ts";

// DPA 5.3: silence for 10 working days from receipt counts as consent. In January 2026 Copenhagen is on CET (UTC+1).
// A notice received Monday 5 January has its deadline on Monday 19 January (6–9, 12–16, 19); one received Tuesday
// 6 January on Tuesday 20 January.

function notice(id: string, concerned: boolean, extra: Partial<CustomerNotice> = {}): CustomerNotice {
  return {
    customer: id,
    region: "uk",
    cohort: "current",
    concerned,
    ...(concerned ? {} : { reason: { code: "no-row-changed", detail: "no row of its Annex C changed (region uk)" } }),
    annexC: [],
    diff: { added: [], removed: [], changed: [] },
    changes: [],
    effectiveFrom: undefined,
    recipients: [],
    suppressed: [],
    ...extra,
  };
}

const morning = "2026-01-05T09:00:00.000Z"; // 10:00 in Copenhagen, a Monday
function delivered(customer: string, email: string, deliveredAt = "2026-01-05T09:00:05.000Z"): ContactDelivery {
  return { customer, email, locale: "en", sentAt: morning, deliveredAt, messageId: `msg-${email}` };
}

const customers: Customer[] = [
  customer({
    externalId: "A",
    name: "Two mailboxes",
    contacts: [{ email: "a1@a.example" }, { email: "a2@a.example" }],
  }),
  customer({ externalId: "B", name: "Bounced", contacts: [{ email: "b@b.example" }] }),
  customer({ externalId: "C", name: "Objected", contacts: [{ email: "c@c.example" }] }),
  customer({ externalId: "D", name: "Late objection", contacts: [{ email: "d@d.example" }] }),
  customer({ externalId: "E", name: "Not concerned", contacts: [{ email: "e@e.example" }] }),
  customer({ externalId: "F", name: "Pending", contacts: [{ email: "f@f.example" }] }),
  customer({ externalId: "G", name: "Suppressed", contacts: [{ email: "g@g.example" }] }),
  customer({ externalId: "H", name: '=HYPERLINK("https://evil.example")', contacts: [{ email: "h@h.example" }] }),
];

const deliveries: ContactDelivery[] = [
  delivered("A", "a1@a.example"),
  delivered("A", "a2@a.example", "2026-01-05T15:30:00.000Z"), // 16:30: received Tuesday 6 January
  { customer: "B", email: "b@b.example", sentAt: morning, bouncedAt: "2026-01-05T09:01:00.000Z", messageId: "msg-b" },
  delivered("C", "c@c.example"),
  delivered("D", "d@d.example"),
  { customer: "F", email: "f@f.example", sentAt: morning, messageId: "msg-f" },
  delivered("H", "h@h.example"),
];

const objections: CustomerObjection[] = [
  { id: "obj-c", customer: "C", objectedAt: "2026-01-10T10:00:00.000Z", state: "alternative-proposed", changes: ["x"] },
  {
    id: "obj-d",
    customer: "D",
    objectedAt: "2026-01-20T23:30:00.000Z", // 00:30 on 21 January in Copenhagen, the day after D's deadline
    state: "resolved",
    outcome: "withdrawn",
    changes: ["x", "y"],
  },
];

function input(now: string): EvidenceInput {
  return {
    publication: { id: "pub-1", fingerprint: "f1", previousFingerprint: "f0", publishedAt: morning },
    notices: [
      ...["A", "B", "C", "D", "F", "H"].map((id) => notice(id, true)),
      notice("E", false),
      notice("G", true, { suppressed: ["g@g.example"] }),
    ],
    customers,
    deliveries,
    objections,
    vendor: shippedVendor,
    now: new Date(now),
  };
}

const after = deriveEvidence(input("2026-01-21T00:00:00.000Z")); // 01:00 on 21 January in Copenhagen
const row = (id: string) => after.customers.find((c) => c.customer === id);

describe("evidence per customer (DPA 5.2–5.5)", () => {
  it("shows each contact's delivery with the provider message id", () => {
    expect(row("A")?.contacts).toEqual([
      expect.objectContaining({ email: "a1@a.example", status: "delivered", messageId: "msg-a1@a.example" }),
      expect.objectContaining({ email: "a2@a.example", status: "delivered", deliveredAt: "2026-01-05T15:30:00.000Z" }),
    ]);
    expect(row("B")?.contacts[0]).toMatchObject({ status: "bounced", messageId: "msg-b" });
  });

  it("states the earliest deadline and honours the latest, counted from each delivery", () => {
    expect(row("A")).toMatchObject({ statedDeadline: "2026-01-19", honouredDeadline: "2026-01-20" });
    expect(row("C")).toMatchObject({ statedDeadline: "2026-01-19", honouredDeadline: "2026-01-19" });
  });

  it("deems consent the day after the honoured deadline once it has come in Copenhagen, not before", () => {
    expect(row("A")?.consentDeemedOn).toBe("2026-01-21");
    const evening = deriveEvidence(input("2026-01-20T22:59:59.000Z")); // 23:59:59 on 20 January
    expect(evening.customers.find((c) => c.customer === "A")?.consentDeemedOn).toBeUndefined();
    expect(evening.customers.find((c) => c.customer === "C")?.consentDeemedOn).toBeUndefined();
    expect(evening.customers.find((c) => c.customer === "H")?.consentDeemedOn).toBe("2026-01-20");
  });

  it("an on-time objection stops deemed consent; a late one is marked late and does not", () => {
    expect(row("C")).toMatchObject({
      consentDeemedOn: undefined,
      objections: [expect.objectContaining({ late: false })],
    });
    expect(row("D")).toMatchObject({
      consentDeemedOn: "2026-01-20",
      objections: [expect.objectContaining({ id: "obj-d", late: true, state: "resolved", outcome: "withdrawn" })],
    });
  });

  it("never deems consent of a customer nobody was reached at: bounced, suppressed, or not yet delivered", () => {
    expect(row("B")).toMatchObject({ status: "not-notified", notNotified: true, consentDeemedOn: undefined });
    expect(row("G")).toMatchObject({ status: "not-notified", notNotified: true, consentDeemedOn: undefined });
    expect(row("G")?.contacts[0]).toMatchObject({ status: "not-sent", notSentBecause: "suppressed" });
    expect(row("F")).toMatchObject({ status: "pending", notNotified: false, consentDeemedOn: undefined });
    expect(row("F")?.honouredDeadline).toBeUndefined();
  });

  it("lists a customer the change does not concern with the reason, and nothing sent", () => {
    expect(row("E")).toMatchObject({
      concerned: false,
      status: "not-concerned",
      notNotified: false,
      consentDeemedOn: undefined,
      notConcernedReason: expect.stringContaining("no row of its Annex C changed"),
    });
    expect(row("E")?.contacts).toEqual([expect.objectContaining({ email: "e@e.example", status: "not-sent" })]);
  });

  it("totals the header", () => {
    expect(after.publication).toEqual({
      id: "pub-1",
      fingerprint: "f1",
      previousFingerprint: "f0",
      publishedAt: morning,
    });
    expect(after.asOf).toBe("2026-01-21T00:00:00.000Z");
    expect(after.totals).toEqual({
      customers: 8,
      concerned: 7,
      notified: 4,
      pending: 1,
      notNotified: 2,
      objected: 2,
      deemed: 3,
      sent: 7,
      delivered: 5,
      bounced: 1,
    });
  });
});

describe("evidence as of an instant: the ledger after it does not count", () => {
  const at = (now: string) => deriveEvidence(input(now));
  const of = (e: ReturnType<typeof at>, id: string) => e.customers.find((c) => c.customer === id);

  it("an objection received after the instant is not there, nor does it stop consent", () => {
    // 00:15 on 21 January in Copenhagen: D's late objection came at 00:30; C's on-time one on 10 January.
    const e = at("2026-01-20T23:15:00.000Z");
    expect(of(e, "D")?.objections).toEqual([]);
    expect(of(e, "C")?.objections).toHaveLength(1);
    expect(e.totals.objected).toBe(1);
    expect(at("2026-01-09T00:00:00.000Z").totals.objected).toBe(0);
  });

  it("a send, a delivery or a bounce recorded after the instant had not happened yet", () => {
    const beforeSend = at("2026-01-05T08:59:59.000Z");
    expect(beforeSend.totals).toMatchObject({ sent: 0, delivered: 0, bounced: 0, notified: 0, pending: 0 });
    expect(of(beforeSend, "A")?.contacts.map((k) => k.status)).toEqual(["not-sent", "not-sent"]);
    // 09:00:30: sent everywhere, A's first mailbox delivered at 09:00:05, B's bounce (09:01) still to come.
    const sent = at("2026-01-05T09:00:30.000Z");
    expect(of(sent, "A")?.contacts.map((k) => k.status)).toEqual(["delivered", "sent"]);
    expect(of(sent, "A")).toMatchObject({ status: "notified", honouredDeadline: "2026-01-19" });
    expect(of(sent, "B")).toMatchObject({ status: "pending", notNotified: false });
    expect(of(at("2026-01-05T09:01:00.000Z"), "B")).toMatchObject({ status: "not-notified", notNotified: true });
  });

  it("an objection is in the state of its last step by then", () => {
    const steps = [
      { state: "received" as const, at: "2026-01-10T10:00:00.000Z" },
      { state: "alternative-proposed" as const, at: "2026-01-12T10:00:00.000Z" },
      { state: "resolved" as const, outcome: "alternative-accepted" as const, at: "2026-01-14T10:00:00.000Z" },
    ];
    const withSteps = (now: string) =>
      deriveEvidence({
        ...input(now),
        objections: [
          {
            id: "obj-c",
            customer: "C",
            objectedAt: "2026-01-10T10:00:00.000Z",
            state: "resolved",
            outcome: "alternative-accepted",
            changes: ["x"],
            steps,
          },
        ],
      }).customers.find((c) => c.customer === "C")?.objections[0];
    expect(withSteps("2026-01-11T00:00:00.000Z")).toMatchObject({ state: "received", outcome: undefined });
    expect(withSteps("2026-01-13T00:00:00.000Z")).toMatchObject({ state: "alternative-proposed" });
    expect(withSteps("2026-01-15T00:00:00.000Z")).toMatchObject({ state: "resolved", outcome: "alternative-accepted" });
    expect(withSteps("2026-01-15T00:00:00.000Z")).not.toHaveProperty("steps");
  });
});

describe("evidence CSV", () => {
  const csv = evidenceCsv(after);
  const records: string[][] = parse(csv, { bom: true });

  it("writes one row per customer and contact under the documented header, with BOM and CRLF", () => {
    expect(csv.startsWith("\uFEFF")).toBe(true);
    expect(csv).toContain("\r\n");
    expect(records[0]).toEqual([...EVIDENCE_CSV_COLUMNS]);
    expect(records.length - 1).toBe(after.customers.flatMap((c) => c.contacts).length);
    const col = (name: (typeof EVIDENCE_CSV_COLUMNS)[number]) => EVIDENCE_CSV_COLUMNS.indexOf(name);
    const d = records.find((r) => r[col("customer")] === "D") ?? [];
    expect([d[col("objection_id")], d[col("objection_late")], d[col("objected_changes")]]).toEqual([
      "obj-d",
      "yes",
      "x y",
    ]);
    expect(d[col("consent_deemed_on")]).toBe("2026-01-20");
    const g = records.find((r) => r[col("customer")] === "G") ?? [];
    expect([g[col("contact_status")], g[col("not_notified")]]).toEqual(["suppressed", "yes"]);
  });

  it("neutralises cells a spreadsheet would run as a formula", () => {
    const h = records.find((r) => r[2] === "H") ?? [];
    expect(h[3]).toBe('\'=HYPERLINK("https://evil.example")');
    for (const cell of ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"]) expect(spreadsheetSafe(cell)).toBe(`'${cell}`);
    expect(spreadsheetSafe("Nordlys A/S")).toBe("Nordlys A/S");
  });
});
