import { describe, expect, it } from "vitest";
import { resolveBuildDate } from "../../content-io/today.ts";
import type { AnnexCEntry } from "../../domain/annex.ts";
import { appliesToLabels, formatDate, locationLabel, mechanismLabel, transferLabel } from "../../domain/labels.ts";
import type { Change } from "../../domain/schema/change.ts";
import { newestFirst, objectionDeadlineFor, upcoming } from "../../site/lib/changes.ts";
import { annexCsv } from "../../site/lib/csv.ts";
import { dpaPeriods } from "../../site/lib/dpa.ts";
import { changesFeed } from "../../site/lib/feed.ts";

const vendor = {
  regions: [
    { id: "uk", name: { da: "Storbritannien", en: "United Kingdom" } },
    { id: "de", name: { da: "Tyskland", en: "Germany" } },
  ],
  cohorts: [
    {
      id: "legacy",
      name: { da: "Kunder med kontrakt senest 5. juli 2023", en: "Customers contracted on or before 5 July 2023" },
    },
    {
      id: "current",
      name: { da: "Kunder med kontrakt efter 5. juli 2023", en: "Customers contracted after 5 July 2023" },
    },
  ],
};

describe("labels (domain/labels.ts)", () => {
  it("names the transfer mechanism in plain words, with the SCC module", () => {
    expect(transferLabel({ mechanism: "scc-2021", sccModule: 3 }, "en")).toBe(
      "Standard Contractual Clauses (module 3)",
    );
    expect(transferLabel({ mechanism: "scc-2021", sccModule: 2, ukAddendum: true }, "da")).toBe(
      "EU's standardkontraktbestemmelser (modul 2) med britisk tillæg (UK Addendum)",
    );
    expect(transferLabel({ mechanism: "adequacy" }, "en")).toBe("EU adequacy decision");
    expect(transferLabel({ mechanism: "eu-us-dpf" }, "en")).toBe("EU-US Data Privacy Framework");
  });

  it("says a location inside the EEA needs no transfer mechanism, and flags one outside without any", () => {
    expect(mechanismLabel({ country: "DK" }, "en")).toBe("Within the EEA – no transfer");
    expect(mechanismLabel({ country: "US" }, "en")).toBe("No transfer mechanism given");
  });

  it("describes who a location applies to with region and cohort names from vendor.yaml", () => {
    expect(appliesToLabels(undefined, vendor, "en")).toEqual(["All customers"]);
    expect(appliesToLabels([{ regions: ["uk"], cohorts: ["current"] }], vendor, "en")).toEqual([
      "United Kingdom: customers contracted after 5 July 2023",
    ]);
    expect(appliesToLabels([{ regions: ["uk", "de"] }, { cohorts: ["legacy"] }], vendor, "da")).toEqual([
      "Kunder i Storbritannien eller Tyskland",
      "Kunder med kontrakt senest 5. juli 2023",
    ]);
  });

  it("formats calendar dates per locale without shifting the day", () => {
    expect(formatDate("2024-07-01", "da")).toBe("1. juli 2024");
    expect(formatDate("2024-07-01", "en")).toBe("1 July 2024");
    expect(locationLabel({ country: "GB", city: "London" }, "da")).toBe("London, Storbritannien");
  });
});

describe("build date (content-io/today.ts)", () => {
  it("uses BUILD_DATE when given and rejects one that is not a calendar date", () => {
    expect(resolveBuildDate("2026-11-23")).toBe("2026-11-23");
    expect(() => resolveBuildDate("2026-02-30")).toThrow(/BUILD_DATE/);
    expect(() => resolveBuildDate("23/11/2026")).toThrow(/BUILD_DATE/);
  });

  it("otherwise takes today's date in Copenhagen, not in UTC", () => {
    // 23:30 UTC on 31 December is already 1 January in Copenhagen.
    expect(resolveBuildDate(undefined, new Date("2026-12-31T23:30:00Z"))).toBe("2027-01-01");
  });
});

const change = (id: string, announced: string, effective: string): Change => ({
  id,
  announced,
  effective,
  kind: "added",
  subprocessors: ["x"],
  summary: { da: id, en: id },
});

describe("change helpers (site/lib/changes.ts)", () => {
  it("DPA 5.3: the objection deadline is 10 Danish working days after the notice date", () => {
    const calendarVendor = {
      objectionWorkingDays: 10,
      workingDayCalendar: { country: "DK" as const, extraClosedDays: ["06-05", "12-24", "12-31"] },
    };
    // Friday 31 May 2024; Constitution Day (Wednesday 5 June) does not count.
    expect(objectionDeadlineFor(change("a", "2024-05-31", "2024-07-01"), calendarVendor as never)).toBe("2024-06-17");
  });

  it("orders the change log newest first and lists only changes not yet in effect as upcoming", () => {
    const cs = [change("old", "2023-08-31", "2023-10-01"), change("new", "2024-05-31", "2024-07-01")];
    expect(newestFirst(cs).map((c) => c.id)).toEqual(["new", "old"]);
    expect(upcoming(cs, "2024-06-30").map((c) => c.id)).toEqual(["new"]);
    expect(upcoming(cs, "2024-07-01")).toEqual([]);
  });
});

describe("DPA periods (site/lib/dpa.ts)", () => {
  const versions = [
    { version: "2023-10-01", effectiveFrom: "2023-10-01", title: {}, locales: ["da", "en"] },
    { version: "2024-07-01", effectiveFrom: "2024-07-01", title: {}, locales: ["da", "en"] },
  ];
  it("a version runs until the day before the next starts; the later one is current", () => {
    const periods = dpaPeriods(versions, "2026-11-23");
    expect(periods.map((p) => [p.info.version, p.status, p.until])).toEqual([
      ["2024-07-01", "current", undefined],
      ["2023-10-01", "archived", "2024-06-30"],
    ]);
    expect(dpaPeriods(versions, "2024-06-30").map((p) => p.status)).toEqual(["future", "current"]);
  });
});

describe("CSV export (site/lib/csv.ts)", () => {
  it("writes one row per entry and location, quoting fields with commas", () => {
    const entry = {
      id: "acme",
      name: "Acme, Inc.",
      entity: { name: "Acme Inc.", address: { street: "1 Road", city: "Town", country: "US" } },
      locations: [
        { country: "US", city: "Denver", transfer: { mechanism: "scc-2021", sccModule: 3 } },
        { country: "DE", appliesTo: [{ regions: ["de"] }] },
      ],
      since: "2024-07-01",
    } as unknown as AnnexCEntry;
    const csv = annexCsv([entry], vendor);
    expect(csv.startsWith("\uFEFF")).toBe(true);
    expect(csv.slice(1).split("\r\n")).toEqual([
      "id,name,entity,country,city,applies_to,mechanism,since",
      'acme,"Acme, Inc.",Acme Inc.,US,Denver,All customers,Standard Contractual Clauses (module 3),2024-07-01',
      'acme,"Acme, Inc.",Acme Inc.,DE,,Customers in Germany,Within the EEA – no transfer,2024-07-01',
      "",
    ]);
  });

  it("writes a cell that a spreadsheet would run as a formula as text, with a leading single quote (OWASP)", () => {
    const entry = {
      id: "evil",
      name: '=HYPERLINK("https://evil.example","Click")',
      entity: { name: "+1 Corp", address: { street: "1 Road", city: "Town", country: "DK" } },
      locations: [
        { country: "DK", city: "@SUM(A1:A9)" },
        { country: "DK", city: "-2+3" },
        { country: "DK", city: "\tTab" },
      ],
      since: "2024-07-01",
    } as unknown as AnnexCEntry;
    const rows = annexCsv([entry], vendor).slice(1).split("\r\n").slice(1, -1);
    expect(rows).toEqual([
      `evil,"'=HYPERLINK(""https://evil.example"",""Click"")",'+1 Corp,DK,'@SUM(A1:A9),All customers,Within the EEA – no transfer,2024-07-01`,
      `evil,"'=HYPERLINK(""https://evil.example"",""Click"")",'+1 Corp,DK,'-2+3,All customers,Within the EEA – no transfer,2024-07-01`,
      `evil,"'=HYPERLINK(""https://evil.example"",""Click"")",'+1 Corp,DK,'\tTab,All customers,Within the EEA – no transfer,2024-07-01`,
    ]);
  });
});

describe("Atom feed (site/lib/feed.ts)", () => {
  const feedVendor = {
    name: "Vendor <b>&</b> Co",
    legalEntity: "Vendor A/S",
    privacyContact: "privacy@vendor.example",
  };
  const hostile = '<img src=x onerror="alert(1)"> ]]><b>bold</b> & more';

  /** The text of each `<tag type="html">` in the feed, as a reader gets it: CDATA unwrapped, then HTML decoded. */
  function htmlElements(xml: string, tag: string): string[] {
    const re = new RegExp(`<${tag} type="html">((?:<!\\[CDATA\\[[\\s\\S]*?\\]\\]>)+)</${tag}>`, "g");
    return [...xml.matchAll(re)].map((m) =>
      (m[1] ?? "")
        .replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, "$1")
        .replace(/<[^>]*>/g, "")
        .replace(/&lt;/g, "<")
        .replace(/&gt;/g, ">")
        .replace(/&quot;/g, '"')
        .replace(/&amp;/g, "&"),
    );
  }

  it("markup in a change summary reaches the reader as text in the title, summary and content", () => {
    const c: Change = {
      ...change("2024-07-01-evil", "2024-05-31", "2024-07-01"),
      summary: { da: hostile, en: hostile },
    };
    const xml = changesFeed(feedVendor, [c], new URL("https://portal.test"));
    expect(xml).not.toContain("<img");
    expect(xml).not.toContain("<b>");
    expect(htmlElements(xml, "title")).toEqual([`New sub-processor: ${hostile}`]);
    expect(htmlElements(xml, "summary")).toEqual([`${hostile} Takes effect 1 July 2024.`]);
    const [content] = htmlElements(xml, "content");
    expect(content).toContain(hostile);
    expect(content).toContain("Læs på dansk");
    // The feed's own title is a text element: escaped by the XML writer.
    expect(xml).toContain("<title>Vendor &lt;b&gt;&amp;&lt;/b&gt; Co: sub-processor changes</title>");
  });
});
