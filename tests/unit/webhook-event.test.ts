import { describe, expect, it } from "vitest";
import type { AnnexCDocument, AnnexCEntry } from "../../domain/annex.ts";
import { buildNotice } from "../../domain/notice.ts";
import type { Change } from "../../domain/schema/change.ts";
import { ChangeEventSchema } from "../../domain/schema/documents.ts";
import type { Location } from "../../domain/schema/subprocessor.ts";
import { ANNEX_C_CHANGED, endpointAudience, webhookEventFor } from "../../domain/webhook-event.ts";
import { annexEntry } from "./annex-entry.ts";

// The annex-c.changed event (README "Webhooks"): one per endpoint concerned, carrying what changed for ITS regions and
// cohort, the permanent Annex C of that audience (DPA 5.5) and the objection rule (DPA 5.3: 10 working days from
// receipt).

function entry(id: string, locations: Location[], since = "2024-07-01"): AnnexCEntry {
  return annexEntry(id, {
    locations,
    since,
    purpose: { da: "Support", en: "Support" },
    services: ["customer-support"],
  });
}

const old: Change = {
  id: "2024-07-01-aws",
  announced: "2024-05-31",
  effective: "2024-07-01",
  kind: "added",
  subprocessors: ["aws"],
  summary: { da: "aws", en: "aws" },
};
const ukOnly: Change = {
  id: "2027-01-04-desk-added",
  announced: "2026-11-23",
  effective: "2027-01-04",
  kind: "added",
  subprocessors: ["desk"],
  summary: { da: "desk", en: "desk" },
};

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

const aws = entry("aws", [{ country: "IE", city: "Dublin" }]);
// The newcomer processes data of UK customers contracted under the current terms only.
const desk = entry(
  "desk",
  [
    {
      country: "GB",
      city: "London",
      appliesTo: [{ regions: ["uk"], cohorts: ["current"] }],
      transfer: { mechanism: "adequacy" },
    },
  ],
  "2027-01-04",
);
const notice = buildNotice(doc([aws], [old], "a".repeat(64)), doc([aws, desk], [old, ukOnly], "b".repeat(64)), {
  publicationId: "7",
  sequence: 7,
  publishedAt: "2026-11-23T09:00:00.000Z",
});
const input = {
  notice,
  baseUrl: "https://portal.example/",
  vendor: { objectionWorkingDays: 10, workingDayCalendar: { country: "DK" } },
};

describe("annex-c.changed", () => {
  it("tells an endpoint of one region and cohort what changed there, with that audience's permanent Annex C", () => {
    const event = webhookEventFor({ ...input, audience: { regions: ["uk"], cohort: "current" } });
    expect(event?.type).toBe(ANNEX_C_CHANGED);
    expect(event?.timestamp).toBe("2026-11-23T09:00:00.000Z");
    expect(event?.data).toMatchObject({
      publicationId: 7,
      fingerprint: "b".repeat(64),
      previousFingerprint: "a".repeat(64),
      audience: { regions: ["uk"], cohort: "current" },
      annexCUrl: "https://portal.example/annex-c/2027-01-04/uk/current.json",
      annexCPage: {
        da: "https://portal.example/da/annex-c/2027-01-04/",
        en: "https://portal.example/en/annex-c/2027-01-04/",
      },
      changeEvents: "https://portal.example/changes.json",
      effectiveFrom: "2027-01-04",
      effective: [{ change: ukOnly.id, effective: "2027-01-04" }],
    });
    // Only the change behind this audience's diff, never the rest of the log.
    expect(event?.data.changes.map((c) => c.id)).toEqual([ukOnly.id]);
  });

  it("gives the changes in the shape of the portal's change events (/changes.json)", () => {
    const event = webhookEventFor({ ...input, audience: { regions: ["uk"] } });
    const shape = ChangeEventSchema.pick({
      id: true,
      kind: true,
      aspects: true,
      announced: true,
      effective: true,
      subprocessors: true,
      html: true,
    }).strict();
    for (const c of event?.data.changes ?? []) expect(shape.parse(c)).toEqual(c);
    expect(event?.data.changes[0]?.html.en).toBe(`https://portal.example/en/changes/${ukOnly.id}/`);
  });

  it("states the objection rule: 10 working days from receipt (DPA 5.3), with the form and the API", () => {
    const event = webhookEventFor({ ...input, audience: { regions: [] } });
    expect(event?.data.objection).toEqual({
      rule: expect.stringMatching(/^DPA 5\.3: .*10 working days from receipt/),
      workingDays: 10,
      calendar: "DK",
      from: "receipt",
      url: {
        da: "https://portal.example/da/subscription/object/7",
        en: "https://portal.example/en/subscription/object/7",
      },
      api: "https://portal.example/api/notices/7/objections",
    });
  });

  it("links the whole version when the endpoint speaks for several regions or every cohort", () => {
    for (const audience of [{ regions: ["uk", "de"], cohort: "current" }, { regions: ["uk"] }, { regions: [] }]) {
      expect(webhookEventFor({ ...input, audience })?.data.annexCUrl).toBe(
        "https://portal.example/annex-c/2027-01-04.json",
      );
    }
  });

  it("sends no event to an endpoint whose regions or cohort the change does not touch", () => {
    expect(webhookEventFor({ ...input, audience: { regions: ["de"] } })).toBeUndefined();
    expect(webhookEventFor({ ...input, audience: { regions: ["uk"], cohort: "legacy" } })).toBeUndefined();
    expect(webhookEventFor({ ...input, audience: { regions: ["de", "uk"] } })).toBeDefined();
  });

  it("sends no event for a publication that adds only a DPA version", () => {
    const dpaOnly = buildNotice(
      doc([aws], [old], "a".repeat(64)),
      {
        ...doc([aws], [old], "c".repeat(64)),
        snapshot: { entries: [aws], dpaVersions: [{ version: "v2", effectiveFrom: "2027-01-01" }] },
      },
      { publicationId: "8", sequence: 8, publishedAt: "2026-11-24T09:00:00.000Z" },
    );
    expect(webhookEventFor({ ...input, notice: dpaOnly, audience: { regions: [] } })).toBeUndefined();
  });

  it("an endpoint without regions of its own speaks for its subscriber's", () => {
    expect(endpointAudience({ regions: null, cohort: null }, ["uk"])).toEqual({ regions: ["uk"] });
    expect(endpointAudience({ regions: ["de"], cohort: "legacy" }, ["uk"])).toEqual({
      regions: ["de"],
      cohort: "legacy",
    });
    expect(endpointAudience({ regions: null, cohort: null }, [])).toEqual({ regions: [] });
  });
});
