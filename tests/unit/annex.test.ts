import { describe, expect, it } from "vitest";
import { loadContent } from "../../content-io/load-content.ts";
import {
  annexCDocument,
  fingerprint,
  horizon,
  publishedSnapshot,
  resolveAnnexC,
  versionDates,
} from "../../domain/annex.ts";
import { canonicalJson, sha256Hex } from "../../domain/canonical.ts";
import type { Content } from "../../domain/content.ts";
import { diffAnnexC, isEmptyDiff } from "../../domain/diff.ts";

const loaded = loadContent(".", "2026-11-23");
if (!loaded.content) throw new Error(`shipped content is invalid: ${JSON.stringify(loaded.errors)}`);
const content: Content = loaded.content;

const ids = (on: string, audience: { region?: string; cohort?: string } = {}) =>
  resolveAnnexC(content, { on, ...audience }).entries.map((e) => e.id);
const places = (on: string, id: string, audience: { region?: string; cohort?: string } = {}) =>
  resolveAnnexC(content, { on, ...audience })
    .entries.find((e) => e.id === id)
    ?.locations.map((l) => l.country)
    .sort();

describe("Annex C of the DPA effective 1 October 2023", () => {
  const on = "2023-10-01";
  it("lists the six sub-processors of that version", () => {
    expect(ids(on)).toEqual([
      "aws-europe",
      "metacompliance-gmbh",
      "metacompliance-ireland",
      "metacompliance-limited",
      "metacompliance-portugal",
      "microsoft-azure",
    ]);
  });
  it("places each where that version says", () => {
    expect(places(on, "microsoft-azure")).toEqual(["IE", "NL"]);
    expect(places(on, "aws-europe")).toEqual(["IE"]);
    expect(places(on, "metacompliance-limited")).toEqual(["GB"]);
    expect(places(on, "metacompliance-gmbh")).toEqual(["DE"]);
    expect(places(on, "metacompliance-ireland")).toEqual(["IE"]);
    expect(places(on, "metacompliance-portugal")).toEqual(["PT"]);
  });
  it("still carries the German group company under its former name", () => {
    const gmbh = resolveAnnexC(content, { on }).entries.find((e) => e.id === "metacompliance-gmbh");
    expect(gmbh?.name).toBe("increase your skills GmbH");
  });
  it("did not exist the day before", () => {
    expect(ids("2023-09-30")).toEqual([]);
  });
});

describe("Annex C of the DPA effective 1 July 2024", () => {
  const on = "2024-07-01";
  it("adds MOCH A/S and Twilio SendGrid, drops MetaCompliance Ireland Ltd", () => {
    expect(ids(on)).toEqual([
      "aws-europe",
      "metacompliance-gmbh",
      "metacompliance-limited",
      "metacompliance-portugal",
      "microsoft-azure",
      "moch",
      "twilio-sendgrid",
    ]);
    const gmbh = resolveAnnexC(content, { on }).entries.find((e) => e.id === "metacompliance-gmbh");
    expect(gmbh?.name).toBe("MetaCompliance GmbH");
    expect(places(on, "metacompliance-limited")).toEqual(["IE"]);
    expect(places(on, "moch")).toEqual(["DK"]);
  });
  it("gives customers contracted after 5 July 2023 the data centres of their region", () => {
    const current = (region: string) => ({ region, cohort: "current" });
    expect(places(on, "microsoft-azure", current("uk"))).toEqual(["GB"]);
    expect(places(on, "microsoft-azure", current("de"))).toEqual(["DE"]);
    expect(places(on, "microsoft-azure", current("ca"))).toEqual(["CA"]);
    expect(places(on, "microsoft-azure", current("eea-ch"))).toEqual(["IE", "NL"]);
    expect(places(on, "aws-europe", current("uk"))).toEqual(["GB"]);
    expect(places(on, "aws-europe", current("ca"))).toEqual(["CA"]);
    expect(places(on, "aws-europe", current("eea-ch"))).toEqual(["IE"]);
    expect(ids(on, current("ca"))).not.toContain("twilio-sendgrid");
  });
  it("keeps customers contracted on or before 5 July 2023 in Dublin and Amsterdam, with SendGrid outside the UK/EEA", () => {
    const legacy = (region: string) => ({ region, cohort: "legacy" });
    for (const region of ["uk", "de", "ca", "eea-ch"]) {
      expect(places(on, "microsoft-azure", legacy(region))).toEqual(["IE", "NL"]);
    }
    expect(places(on, "twilio-sendgrid", legacy("ca"))).toEqual(["US"]);
    expect(ids(on, legacy("uk"))).not.toContain("twilio-sendgrid");
    expect(places(on, "aws-europe", legacy("uk"))).toEqual(["IE"]);
    expect(ids(on, legacy("ca"))).not.toContain("aws-europe");
  });
  it("every location outside the EEA carries its transfer mechanism", () => {
    for (const entry of resolveAnnexC(content, { on }).entries) {
      for (const l of entry.locations) if (["GB", "CA", "US"].includes(l.country)) expect(l.transfer).toBeDefined();
    }
  });
});

describe("diff between the two versions", () => {
  const before = resolveAnnexC(content, { on: "2023-10-01" }).entries;
  const after = resolveAnnexC(content, { on: "2024-07-01" }).entries;
  const diff = diffAnnexC(before, after);
  it("names what was added, removed and changed", () => {
    expect(diff.added.map((e) => e.id)).toEqual(["moch", "twilio-sendgrid"]);
    expect(diff.removed.map((e) => e.id)).toEqual(["metacompliance-ireland"]);
    const changed = Object.fromEntries(diff.changed.map((c) => [c.id, c.fields.map((f) => f.field)]));
    expect(Object.keys(changed).sort()).toEqual([
      "aws-europe",
      "metacompliance-gmbh",
      "metacompliance-limited",
      "microsoft-azure",
    ]);
    expect(changed["metacompliance-gmbh"]).toEqual(expect.arrayContaining(["name", "entity"]));
    expect(changed["microsoft-azure"]).toEqual(["locations"]);
  });
  it("lists the locations added and removed", () => {
    const limited = diff.changed.find((c) => c.id === "metacompliance-limited");
    expect(limited?.locationsAdded.map((l) => l.country)).toEqual(["IE"]);
    expect(limited?.locationsRemoved.map((l) => l.country)).toEqual(["GB"]);
  });
  it("of a snapshot with itself is empty", () => {
    expect(isEmptyDiff(diffAnnexC(after, after))).toBe(true);
  });
});

describe("published Annex C and its fingerprint", () => {
  it("is the list once every announced change is in effect", () => {
    expect(horizon(content)).toBe(versionDates(content).at(-1));
    expect(publishedSnapshot(content).entries).toEqual(resolveAnnexC(content, { on: horizon(content) }).entries);
  });
  it("the document's fingerprint is SHA-256 of the canonical snapshot", async () => {
    const doc = await annexCDocument(content);
    expect(doc.fingerprint).toBe(await sha256Hex(canonicalJson(doc.snapshot)));
    expect(doc.fingerprint).toMatch(/^[0-9a-f]{64}$/);
  });
  it("changes the day a new sub-processor is announced, not the day it takes effect", async () => {
    const base = await fingerprint(publishedSnapshot(content));
    const announced = structuredClone(content);
    const moch = announced.subprocessors.find((s) => s.id === "moch");
    if (!moch) throw new Error("moch missing");
    moch.timeline.push({ from: "2027-01-01", removed: true });
    expect(await fingerprint(publishedSnapshot(announced))).not.toBe(base);
    // The same content resolved later (time passing) publishes the same fingerprint: no second notice.
    expect(await fingerprint(publishedSnapshot(structuredClone(content)))).toBe(base);
  });
  it("canonical JSON does not depend on key order", () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] })).toBe(canonicalJson({ a: [{ c: 3, d: 2 }], b: 1 }));
    expect(canonicalJson({ b: 1, a: 2 })).toBe('{"a":2,"b":1}');
  });
});

describe("customers moved in the group switch of 15 July 2023", () => {
  const on = "2024-07-01";
  const audience = { region: "uk", cohort: "legacy-switch" };
  it("use Azure in Dublin and Amsterdam, AWS Dublin for phishing simulations only and SendGrid for other email", () => {
    expect(places(on, "microsoft-azure", audience)).toEqual(["IE", "NL"]);
    const aws = resolveAnnexC(content, { on, ...audience }).entries.find((e) => e.id === "aws-europe");
    expect(aws?.locations).toHaveLength(1);
    expect(aws?.locations[0]?.note?.en).toMatch(/phishing/);
    expect(places(on, "twilio-sendgrid", audience)).toEqual(["US"]);
  });
});
