import { describe, expect, it } from "vitest";
import type { AnnexCDocument, AnnexCEntry } from "../../domain/annex.ts";
import {
  customerAnnexC,
  customerNoticeFor,
  customerPersonalNotice,
  planCustomerFanout,
  planCustomerNotices,
} from "../../domain/customer-notice.ts";
import { buildNotice, noticeFor } from "../../domain/notice.ts";
import type { Change } from "../../domain/schema/change.ts";
import type { Location } from "../../domain/schema/subprocessor.ts";
import { annexEntry } from "./annex-entry.ts";
import { customer, vendor } from "./customer-fixtures.ts";

// DPA 5.5: each customer's notice carries the Annex C of its own region and cohort. The content below follows the
// shape of the shipped 2024 change: regional data centres for customers contracted after 5 July 2023, Twilio SendGrid
// for legacy customers outside the UK and the EEA, and a special rule for the customers of the switch.

function entry(id: string, locations: Location[]): AnnexCEntry {
  return annexEntry(id, { locations, purpose: { da: "E-mail", en: "Email" }, services: ["transactional-email"] });
}

const switchNote = { da: "Kun phishing-mails", en: "Phishing simulation email only" };
const before = [entry("aws", [{ country: "IE", city: "Dublin" }])];
const after = [
  entry("aws", [
    {
      country: "IE",
      city: "Dublin",
      appliesTo: [
        { cohorts: ["current"], regions: ["eea", "ch", "de"] },
        { cohorts: ["legacy"], regions: ["uk", "eea", "ch", "de"] },
      ],
    },
    { country: "IE", city: "Dublin", note: switchNote, appliesTo: [{ cohorts: ["legacy-switch"] }] },
    {
      country: "GB",
      city: "London",
      appliesTo: [{ cohorts: ["current"], regions: ["uk"] }],
      transfer: { mechanism: "adequacy", reference: "UK adequacy" },
    },
    {
      country: "CA",
      city: "Montreal",
      appliesTo: [{ cohorts: ["current"], regions: ["ca"] }],
      transfer: { mechanism: "adequacy", reference: "Canada adequacy" },
    },
  ]),
  entry("twilio", [
    {
      country: "US",
      appliesTo: [{ cohorts: ["legacy"], regions: ["ca", "ch"] }, { cohorts: ["legacy-switch"] }],
      transfer: { mechanism: "eu-us-dpf", reference: "DPF" },
    },
  ]),
];

function change(id: string, subprocessors: string[]): Change {
  return {
    id,
    announced: "2024-05-31",
    effective: "2024-07-01",
    kind: "changed",
    subprocessors,
    summary: { da: id, en: id },
  };
}

function doc(entries: AnnexCEntry[], changes: Change[], fingerprint: string): AnnexCDocument {
  return {
    format: "annex-c/1",
    fingerprint,
    vendor: { name: "V", legalEntity: "V A/S", registration: "CVR 1" },
    snapshot: { entries, dpaVersions: [] },
    regions: [],
    cohorts: [],
    changes,
  };
}

const notice = buildNotice(
  doc(before, [], "fp-0"),
  doc(after, [change("aws-regional", ["aws"]), change("twilio-legacy", ["twilio"])], "fp-1"),
  { publicationId: "pub-1", sequence: 1, publishedAt: "2024-05-31T08:00:00.000Z" },
);

const ukLegacy = customer({ externalId: "UK-OLD", region: "uk", contractDate: "2023-07-05" });
const ukCurrent = customer({
  externalId: "UK-NEW",
  region: "uk",
  contractDate: "2023-07-06",
  locale: "da",
  contacts: [{ email: "dpo@uk-new.example", locale: "en", name: "DPO" }, { email: "legal@uk-new.example" }],
});
const caLegacy = customer({ externalId: "CA-OLD", region: "ca", contractDate: "2022-01-01" });
const eeaCurrent = customer({ externalId: "EEA-NEW", region: "eea", contractDate: "2024-01-01" });
const ukSwitch = customer({
  externalId: "UK-SWITCH",
  region: "uk",
  contractDate: "2021-01-01",
  cohort: "legacy-switch",
});
const all = [ukLegacy, ukCurrent, caLegacy, eeaCurrent, ukSwitch];

const locations = (entries: AnnexCEntry[]) =>
  entries.flatMap((e) => e.locations.map((l) => `${e.id}:${l.country}${l.note ? "*" : ""}`));

describe("per-customer notice (DPA 5.2, 5.5)", () => {
  it("resolves each customer's Annex C for its exact region and cohort: the two UK customers differ", () => {
    const byId = new Map(planCustomerNotices(notice, all, vendor.cohorts).map((n) => [n.customer, n]));
    expect(byId.get("UK-NEW")).toMatchObject({ region: "uk", cohort: "current", concerned: true });
    expect(locations(byId.get("UK-NEW")?.annexC ?? [])).toEqual(["aws:GB"]);
    expect(locations(byId.get("UK-OLD")?.annexC ?? [])).toEqual(["aws:IE"]);
    // Legacy customers outside the UK and the EEA: AWS Europe no longer applies, Twilio SendGrid does.
    expect(locations(byId.get("CA-OLD")?.annexC ?? [])).toEqual(["twilio:US"]);
    expect(locations(byId.get("UK-SWITCH")?.annexC ?? [])).toEqual(["aws:IE*", "twilio:US"]);
  });

  it("names the changes behind each customer's diff", () => {
    const byId = new Map(planCustomerNotices(notice, all, vendor.cohorts).map((n) => [n.customer, n]));
    expect(byId.get("UK-NEW")?.changes.map((c) => c.id)).toEqual(["aws-regional"]);
    expect(byId.get("CA-OLD")?.diff.added.map((e) => e.id)).toEqual(["twilio"]);
    expect(byId.get("CA-OLD")?.diff.removed.map((e) => e.id)).toEqual(["aws"]);
    expect(byId.get("CA-OLD")?.changes.map((c) => c.id)).toEqual(["aws-regional", "twilio-legacy"]);
    expect(byId.get("UK-SWITCH")?.changes.map((c) => c.id)).toEqual(["aws-regional", "twilio-legacy"]);
    expect(byId.get("UK-NEW")?.effectiveFrom).toBe("2024-07-01");
  });

  it("tells a customer whose rows did not change nothing, and says why", () => {
    for (const c of [ukLegacy, eeaCurrent]) {
      const n = customerNoticeFor(notice, c, vendor.cohorts);
      expect(n.concerned).toBe(false);
      expect(n.recipients).toEqual([]);
      expect(n.reason?.code).toBe("no-row-changed");
      expect(n.reason?.detail).toContain("no row of its Annex C changed");
      expect(n.reason?.detail).toContain(`region ${c.region}`);
    }
  });

  it("a location only extended to other customers is no change for this one", () => {
    // Before: Dublin for everyone. After: Dublin for the legacy UK customers among others. Same for UK-OLD.
    const view = (entries: AnnexCEntry[]) => customerAnnexC(entries, { region: "uk", cohort: "legacy" });
    expect(view(after)).toEqual(view(before));
  });

  it("writes to every contact in the contact's locale, else the customer's, and skips suppressed addresses", () => {
    const n = customerNoticeFor(notice, ukCurrent, vendor.cohorts);
    expect(n.recipients).toEqual([
      { customer: "UK-NEW", email: "dpo@uk-new.example", name: "DPO", locale: "en" },
      { customer: "UK-NEW", email: "legal@uk-new.example", locale: "da" },
    ]);
    const held = customerNoticeFor(notice, ukCurrent, vendor.cohorts, { suppressed: new Set(["dpo@uk-new.example"]) });
    expect(held.recipients.map((r) => r.email)).toEqual(["legal@uk-new.example"]);
    expect(held.suppressed).toEqual(["dpo@uk-new.example"]);
  });

  it("plans the same as one customer at a time (the per-audience cache changes nothing)", () => {
    const planned = planCustomerNotices(notice, all, vendor.cohorts);
    const single = [...all]
      .sort((a, b) => a.externalId.localeCompare(b.externalId))
      .map((c) => customerNoticeFor(notice, c, vendor.cohorts));
    expect(planned).toEqual(single);
  });
});

describe("customer fan-out", () => {
  const many = Array.from({ length: 130 }, (_, i) =>
    customer({
      externalId: `C-${String(i).padStart(3, "0")}`,
      region: "uk",
      contractDate: "2024-01-01",
      contacts: [{ email: `b${i}@x.example` }, { email: `a${i}@x.example` }],
    }),
  );

  it("cuts the recipients of concerned customers into provider batches, the same way every time", () => {
    const notices = planCustomerNotices(notice, [...many, ukLegacy], vendor.cohorts);
    const chunks = planCustomerFanout("pub-1", notices);
    expect(chunks.map((c) => c.recipients.length)).toEqual([100, 100, 60]);
    expect(chunks.flatMap((c) => c.recipients).some((r) => r.customer === "UK-OLD")).toBe(false);
    expect(chunks[0]?.recipients.slice(0, 2).map((r) => r.email)).toEqual(["a0@x.example", "b0@x.example"]);
    const again = planCustomerFanout("pub-1", planCustomerNotices(notice, [...many].reverse(), vendor.cohorts));
    expect(again).toEqual(chunks);
    expect(() => planCustomerFanout("pub-1", notices, { batchSize: 101 })).toThrow(/Resend batch limit/);
  });
});

describe("what the fan-out renders for a contact and for a subscriber with a cohort", () => {
  it("a contact's notice is its customer's plan: the same rows, diff and changes, only the audience's", () => {
    for (const c of all) {
      const planned = customerNoticeFor(notice, c, vendor.cohorts);
      const personal = customerPersonalNotice(notice, { region: planned.region, cohort: planned.cohort }, "da");
      if (!planned.concerned) {
        expect(personal, c.externalId).toBeUndefined();
        continue;
      }
      expect(personal, c.externalId).toMatchObject({
        locale: "da",
        regions: [planned.region],
        cohort: planned.cohort,
        annexC: planned.annexC,
        diff: planned.diff,
        changes: planned.changes,
      });
    }
  });

  it("an audience the change does not touch renders nothing", () => {
    const unchanged = buildNotice(doc(after, [], "fp-1"), doc(after, [], "fp-1"), {
      publicationId: "pub-2",
      sequence: 2,
      publishedAt: "2024-06-01T08:00:00.000Z",
    });
    expect(customerPersonalNotice(unchanged, { region: "uk", cohort: "current" }, "en")).toBeUndefined();
  });

  it("a subscriber who states a cohort sees only its rows; one who does not sees every cohort's", () => {
    const subscriber = { id: "s", locale: "en" as const, topics: ["subprocessors" as const], regions: ["uk"] };
    const current = noticeFor(notice, { ...subscriber, cohort: "current" });
    const legacy = noticeFor(notice, { ...subscriber, cohort: "legacy" });
    const unknown = noticeFor(notice, subscriber);
    expect(current?.cohort).toBe("current");
    expect(unknown?.cohort).toBeUndefined();
    expect(locations(current?.annexC ?? [])).toEqual(["aws:GB"]);
    expect(locations(legacy?.annexC ?? [])).toEqual(["aws:IE"]);
    // Every cohort's UK rows, the switch's included.
    expect(locations(unknown?.annexC ?? [])).toEqual(["aws:IE", "aws:IE*", "aws:GB", "twilio:US"]);
  });
});
