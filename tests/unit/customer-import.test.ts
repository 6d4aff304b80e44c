import { describe, expect, it } from "vitest";
import {
  canonicalCustomer,
  type ImportError,
  type ImportResult,
  importFormat,
  parseCustomerCsv,
  parseCustomerImport,
  parseCustomerJsonLines,
  planImport,
  sameCustomer,
} from "../../domain/customer-import.ts";
import { cohortForContractDate, customerCohort, customerSchema } from "../../domain/schema/customer.ts";
import { Vendor } from "../../domain/schema/vendor.ts";
import { customer, shippedVendor, vendor } from "./customer-fixtures.ts";

const HEADER = "externalId;name;region;contractDate;cohort;locale;contactEmail;contactName;contactLocale";

function errorsOf(result: ImportResult): ImportError[] {
  if (result.ok) throw new Error(`expected errors, got ${result.customers.length} customers`);
  return result.errors;
}

function customersOf(result: ImportResult) {
  if (!result.ok) throw new Error(`expected customers, got ${JSON.stringify(result.errors)}`);
  return result.customers;
}

describe("customer cohort (vendor.yaml cohort rules)", () => {
  it("puts a contract signed on or before 5 July 2023 in legacy, a later one in current", () => {
    expect(cohortForContractDate("2023-07-05", shippedVendor.cohorts)?.id).toBe("legacy");
    expect(cohortForContractDate("2019-01-01", shippedVendor.cohorts)?.id).toBe("legacy");
    expect(cohortForContractDate("2023-07-06", shippedVendor.cohorts)?.id).toBe("current");
  });

  it("never derives an assigned-only cohort (legacy-switch) from the date; naming it overrides", () => {
    expect(customerCohort({ contractDate: "2023-01-01" }, shippedVendor.cohorts)).toBe("legacy");
    expect(customerCohort({ contractDate: "2023-01-01", cohort: "legacy-switch" }, shippedVendor.cohorts)).toBe(
      "legacy-switch",
    );
  });

  it("refuses a vendor whose cohorts both take the same contract date unless one is assigned only", () => {
    const cohorts = shippedVendor.cohorts.map(({ assignedOnly: _a, ...c }) => c);
    const result = Vendor.safeParse({ ...shippedVendor, cohorts });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.message)).toContainEqual(
      expect.stringContaining('"legacy" and "legacy-switch" both take contracts signed on 2023-07-05'),
    );
    const gap = Vendor.safeParse({
      ...shippedVendor,
      cohorts: [
        { id: "old", name: { da: "a", en: "a" }, contractedOnOrBefore: "2023-07-05" },
        { id: "new", name: { da: "b", en: "b" }, contractedAfter: "2023-06-30" },
      ],
    });
    expect(gap.error?.issues[0]?.message).toContain("both take contracts signed on 2023-07-05");
  });

  it("gives closingTime its default of 16:00 and checks its form", () => {
    const { closingTime: _c, ...rest } = shippedVendor;
    expect(Vendor.parse(rest).closingTime).toBe("16:00");
    expect(Vendor.safeParse({ ...rest, closingTime: "24:00" }).success).toBe(false);
  });
});

describe("customer schema", () => {
  const schema = customerSchema(vendor);

  it("normalises contact addresses as the subscription form does and trims names", () => {
    const parsed = schema.parse(customer({ name: "  Nordlys A/S ", contacts: [{ email: " DPO@Nordlys.Example " }] }));
    expect(parsed.name).toBe("Nordlys A/S");
    expect(parsed.contacts[0]?.email).toBe("dpo@nordlys.example");
  });

  it("refuses an explicit cohort its contract date does not fit", () => {
    const result = schema.safeParse(customer({ contractDate: "2024-01-10", cohort: "legacy-switch" }));
    expect(result.error?.issues).toContainEqual(
      expect.objectContaining({ path: ["cohort"], params: { rule: "cohort-contract-date" } }),
    );
  });

  it("refuses a name with a line break (it would reach email headers)", () => {
    expect(schema.safeParse(customer({ name: "Nordlys\r\nBcc: x@y.example" })).success).toBe(false);
  });
});

describe("CSV import", () => {
  const good = [
    HEADER,
    "C-1;Nordlys A/S;uk;2023-03-14;;en;dpo@nordlys.example;Data Protection Officer;",
    "C-2;Fjord ApS;ca;2024-02-01;;da;privacy@fjord.example;;en",
    "C-1;;;;;;Legal@Nordlys.example;;da",
  ].join("\r\n");

  it("reads semicolon CSV with CRLF and a BOM; repeated rows add contacts", () => {
    const customers = customersOf(parseCustomerImport(new TextEncoder().encode(`\uFEFF${good}\r\n`), "csv", vendor));
    expect(customers.map((c) => c.externalId)).toEqual(["C-1", "C-2"]);
    expect(customers[0]).toEqual({
      externalId: "C-1",
      name: "Nordlys A/S",
      region: "uk",
      contractDate: "2023-03-14",
      locale: "en",
      contacts: [
        { email: "dpo@nordlys.example", name: "Data Protection Officer" },
        { email: "legal@nordlys.example", locale: "da" },
      ],
    });
    expect(customers[1]?.contacts).toEqual([{ email: "privacy@fjord.example", locale: "en" }]);
  });

  it("reads comma CSV with quoted fields holding the delimiter, quotes and a line break", () => {
    const csv = [
      "externalId,name,region,contractDate,locale,contactEmail,contactName",
      'C-9,"Hansen, Berg & ""Co"" A/S",de,2023-07-06,da,dpo@hb.example,"Jens Hansen"',
      'C-8,"Two-line',
      'Name",de,2023-07-06,da,dpo@two.example,',
      "C-7,Bad Region,xx,2023-07-06,da,dpo@bad.example,",
    ].join("\n");
    // The record spanning lines 3–4 is reported on its first line and shifts nothing after it.
    expect(errorsOf(parseCustomerCsv(csv, vendor))).toEqual([
      expect.objectContaining({ line: 3, column: "name", rule: "invalid-text" }),
      expect.objectContaining({ line: 5, column: "region", rule: "unknown-region" }),
    ]);
    const [first] = customersOf(parseCustomerCsv(csv.split("\n").slice(0, 2).join("\n"), vendor));
    expect(first?.name).toBe('Hansen, Berg & "Co" A/S');
    expect(first?.contacts).toEqual([{ email: "dpo@hb.example", name: "Jens Hansen" }]);
  });

  it("matches header names without regard to case and accepts the optional columns missing", () => {
    const csv = "EXTERNALID,Name,region,contractdate,locale,contactemail\nC-1,N,uk,2024-01-01,en,a@b.example\n";
    expect(customersOf(parseCustomerCsv(csv, vendor))[0]?.contacts).toEqual([{ email: "a@b.example" }]);
  });

  it("lists every error of the file with line, column and rule, and returns no customer", () => {
    const csv = [
      `${HEADER};notes`,
      "C-1;Nordlys A/S;mars;2023-02-30;;en;dpo@nordlys.example;;",
      "C-2;;uk;2024-01-01;;en;not-an-address;;",
      "C-3;Ok ApS;uk;2024-01-01;;en;ok@ok.example;;",
      "C-3;Other ApS;uk;2024-01-01;;en;ok2@ok.example;;",
      "C-4;Dup;uk;2024-01-01;;en;same@dup.example;;",
      "C-4;;;;;;Same@dup.example;;",
      "C-5;Later;uk;2024-01-01;legacy;en;l@later.example;;",
      "C-6;Lang;uk;2024-01-01;;fr;l@lang.example;;xx",
      ";No id;uk;2024-01-01;;en;x@noid.example;;",
    ].join("\n");
    const errors = errorsOf(parseCustomerCsv(csv, vendor));
    expect(errors.map((e) => [e.line, e.column, e.rule])).toEqual([
      [1, "notes", "unknown-column"],
      [2, "region", "unknown-region"],
      [2, "contractDate", "invalid-date"],
      [3, "name", "required"],
      [3, "contactEmail", "invalid-email"],
      [5, "name", "duplicate-external-id"],
      [7, "contactEmail", "duplicate-contact"],
      [8, "cohort", "cohort-contract-date"],
      [9, "locale", "unknown-locale"],
      [9, "contactLocale", "unknown-locale"],
      [10, "externalId", "required"],
    ]);
    for (const e of errors) expect(e.detail.length).toBeGreaterThan(5);
    expect(errors.find((e) => e.rule === "unknown-region")?.detail).toContain('"mars"');
  });

  it("reports a missing required column once, not on every row", () => {
    const csv = "externalId;name;region;locale;contactEmail\nC-1;N;uk;en;a@b.example\nC-2;M;uk;en;c@d.example\n";
    expect(errorsOf(parseCustomerCsv(csv, vendor))).toEqual([
      expect.objectContaining({ line: 1, column: "contractDate", rule: "missing-column" }),
    ]);
  });

  it("refuses a duplicate column, an extra cell, an unclosed quote, an empty file and bytes that are not UTF-8", () => {
    expect(errorsOf(parseCustomerCsv(`${HEADER};region\n`, vendor))[0]).toMatchObject({
      line: 1,
      rule: "duplicate-column",
    });
    expect(
      errorsOf(parseCustomerCsv(`${HEADER}\nC-1;N;uk;2024-01-01;;en;a@b.example;;;surplus\n`, vendor))[0],
    ).toMatchObject({ line: 2, rule: "column-count" });
    expect(errorsOf(parseCustomerCsv(`${HEADER}\nC-1;"N;uk;2024-01-01;;en;a@b.example;;\n`, vendor))[0]).toMatchObject({
      rule: "csv-syntax",
    });
    expect(errorsOf(parseCustomerCsv(`${HEADER}\n\n;;;;;;;;\n`, vendor))).toEqual([
      expect.objectContaining({ rule: "empty-import" }),
    ]);
    const latin1 = new Uint8Array([...new TextEncoder().encode(`${HEADER}\nC-1;K`), 0xf8, 0x0a]);
    expect(errorsOf(parseCustomerImport(latin1, "csv", vendor))).toEqual([
      expect.objectContaining({ line: 2, rule: "encoding" }),
    ]);
  });
});

describe("JSON lines import", () => {
  it("reads one customer per line and skips blank lines", () => {
    const text = [
      JSON.stringify(customer({ externalId: "A" })),
      "",
      JSON.stringify(customer({ externalId: "B", cohort: "legacy-switch", contractDate: "2022-05-01" })),
    ].join("\n");
    expect(customersOf(parseCustomerJsonLines(text, vendor)).map((c) => c.cohort)).toEqual([
      undefined,
      "legacy-switch",
    ]);
  });

  it("lists every error: bad JSON, unknown field, duplicate id, missing contacts, bad nested address", () => {
    const text = [
      "{not json",
      JSON.stringify({ ...customer({ externalId: "A" }), vip: true }),
      JSON.stringify(customer({ externalId: "A", name: "Other" })),
      JSON.stringify(customer({ externalId: "B", contacts: [] })),
      JSON.stringify(customer({ externalId: "C", contacts: [{ email: "ok@c.example" }, { email: "x@@c" }] })),
      JSON.stringify({ externalId: "D", name: "No region" }),
    ].join("\n");
    const errors = errorsOf(parseCustomerJsonLines(text, vendor));
    expect(errors.map((e) => [e.line, e.column, e.rule])).toEqual([
      [1, null, "json-syntax"],
      [2, "vip", "unknown-field"],
      [3, "externalId", "duplicate-external-id"],
      [4, "contacts", "required"],
      [5, "contacts.1.email", "invalid-email"],
      [6, "region", "required"],
      [6, "contractDate", "required"],
      [6, "locale", "required"],
      [6, "contacts", "required"],
    ]);
  });
});

describe("import format", () => {
  it("maps media types to formats", () => {
    expect(importFormat("text/csv; charset=utf-8")).toBe("csv");
    expect(importFormat("application/x-ndjson")).toBe("jsonl");
    expect(importFormat("application/jsonl")).toBe("jsonl");
    expect(importFormat("application/json")).toBeUndefined();
  });
});

describe("import plan (dry run)", () => {
  const a = customer({ externalId: "A" });
  const b = customer({ externalId: "B", contacts: [{ email: "x@b.example" }, { email: "y@b.example" }] });
  const c = customer({ externalId: "C" });

  it("sorts incoming customers into created, updated (with the fields) and unchanged; merge removes nothing", () => {
    const renamed = { ...a, name: "Renamed" };
    const reordered = { ...b, contacts: [...b.contacts].reverse() };
    const plan = planImport([a, b, c], [customer({ externalId: "D" }), reordered, renamed], { mode: "merge" });
    expect(plan.created.map((x) => x.externalId)).toEqual(["D"]);
    expect(plan.updated).toEqual([{ before: a, after: renamed, fields: ["name"] }]);
    expect(plan.unchanged).toEqual(["B"]);
    expect(plan.removed).toEqual([]);
  });

  it("full-sync lists the customers the file leaves out as removed", () => {
    expect(planImport([c, a, b], [b], { mode: "full-sync" }).removed.map((x) => x.externalId)).toEqual(["A", "C"]);
  });

  it("is idempotent: planning the import of what was just imported changes nothing", () => {
    const incoming = [a, b, { ...c, cohort: "current" as const }];
    const first = planImport([], incoming, { mode: "full-sync" });
    const applied = [...first.created];
    const second = planImport(applied, incoming, { mode: "full-sync" });
    expect(second).toEqual({ mode: "full-sync", created: [], updated: [], unchanged: ["A", "B", "C"], removed: [] });
  });

  it("compares the canonical form: contact order is not a change, a contact's locale is", () => {
    expect(sameCustomer(b, { ...b, contacts: [...b.contacts].reverse() })).toBe(true);
    expect(
      sameCustomer(b, { ...b, contacts: [{ email: "x@b.example", locale: "da" }, { email: "y@b.example" }] }),
    ).toBe(false);
    expect(canonicalCustomer({ ...a, cohort: undefined })).toEqual(canonicalCustomer(a));
  });
});
