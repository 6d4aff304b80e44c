import { describe, expect, it } from "vitest";
import { readRawContent } from "../../content-io/load-content.ts";
import { annexCDocument, resolveAnnexC } from "../../domain/annex.ts";
import { diffAnnexC } from "../../domain/diff.ts";
import { buildNotice, noticeFor } from "../../domain/notice.ts";
import type { Transfer } from "../../domain/schema/transfer.ts";
import {
  ADEQUACY,
  MECHANISM_VALIDITY,
  originProblem,
  periodProblem,
  sccModuleProblem,
  type TransferLaw,
} from "../../domain/transfer.ts";
import { isPlaceholderAddress, type RawContent, validateContent } from "../../domain/validate.ts";
import { changeSentences, renderNotice } from "../../emails/notice.ts";

// The stricter transfer rules one by one (domain/transfer.ts), then through the validator for what the fixtures under
// tests/fixtures/bad/ do not reach: the sub-processor chain, a renamed entity, the day the UK decision runs out.

const TODAY = "2026-11-23";
const laws = (...l: TransferLaw[]) => new Set(l);

describe("SCC 2021/914: module 3 only", () => {
  it("accepts module 3 and refuses 1, 2 and 4, naming the decision", () => {
    expect(sccModuleProblem({ mechanism: "scc-2021", sccModule: 3 })).toBeUndefined();
    for (const sccModule of [1, 2, 4] as const) {
      expect(sccModuleProblem({ mechanism: "scc-2021", sccModule })).toMatch(/module 3.*2021\/914/);
    }
    expect(sccModuleProblem({ mechanism: "adequacy" })).toBeUndefined();
  });
});

describe("mechanisms that carry one law's data", () => {
  const dpf: Transfer["mechanism"][] = ["eu-us-dpf", "uk-us-dpf", "swiss-us-dpf"];
  const own: Record<string, TransferLaw> = { "eu-us-dpf": "eu", "uk-us-dpf": "uk", "swiss-us-dpf": "ch" };
  it("each DPF part only for its own law", () => {
    for (const mechanism of dpf) {
      const law = own[mechanism] as TransferLaw;
      expect(originProblem({ mechanism }, laws(law))).toBeUndefined();
      for (const other of (["eu", "uk", "ch"] as const).filter((l) => l !== law)) {
        expect(originProblem({ mechanism }, laws(law, other))?.rule).toBe("mechanism-origin");
      }
    }
  });
  it("have their own start dates", () => {
    expect(MECHANISM_VALIDITY["eu-us-dpf"].validFrom).toBe("2023-07-10");
    expect(MECHANISM_VALIDITY["uk-us-dpf"].validFrom).toBe("2023-10-12");
    expect(MECHANISM_VALIDITY["swiss-us-dpf"].validFrom).toBe("2024-09-15");
    expect(periodProblem(MECHANISM_VALIDITY["swiss-us-dpf"], "2024-09-14", undefined, TODAY)).toBe("not-yet-valid");
    expect(periodProblem(MECHANISM_VALIDITY["swiss-us-dpf"], "2024-09-15", undefined, TODAY)).toBeUndefined();
  });
  it("the UK IDTA and the UK Addendum only for UK customers' data, and UK data under the SCCs needs the Addendum", () => {
    expect(originProblem({ mechanism: "uk-idta" }, laws("uk"))).toBeUndefined();
    expect(originProblem({ mechanism: "uk-idta" }, laws("uk", "eu"))?.rule).toBe("uk-transfer-instrument");
    const scc = { mechanism: "scc-2021", sccModule: 3 } as const;
    expect(originProblem({ ...scc, ukAddendum: true }, laws("eu"))?.rule).toBe("uk-transfer-instrument");
    expect(originProblem({ ...scc, ukAddendum: true }, laws("eu", "uk", "ch"))).toBeUndefined();
    expect(originProblem(scc, laws("eu", "uk"))?.rule).toBe("uk-transfer-instrument");
    expect(originProblem(scc, laws("eu", "ch"))).toBeUndefined();
  });
});

describe("EU adequacy for the UK: renewed 19 December 2025, until 27 December 2031", () => {
  const gb = ADEQUACY.GB;
  if (!gb) throw new Error("GB adequacy missing");
  it("cites the renewal", () => {
    expect(gb.validUntil).toBe("2031-12-27");
    expect(gb.source).toMatch(/2021\/1772.*19 December 2025.*27 December 2031/);
  });
  it("an open-ended listing may rely on it up to and including its last day, never after", () => {
    expect(periodProblem(gb, "2024-07-01", undefined, "2031-12-27")).toBeUndefined();
    expect(periodProblem(gb, "2024-07-01", undefined, "2031-12-28")).toBe("expired");
    // A listing that ends in time is fine whenever it is checked; one that runs past the end is not.
    expect(periodProblem(gb, "2024-07-01", "2031-12-28", "2040-01-01")).toBeUndefined();
    expect(periodProblem(gb, "2024-07-01", "2031-12-29", TODAY)).toBe("expired");
    expect(periodProblem(gb, "2032-01-01", undefined, TODAY)).toBe("expired");
  });
});

describe("placeholder contact data (RFC 2606 / RFC 6761 reserved names)", () => {
  it("recognises reserved domains in addresses and web addresses, and nothing else", () => {
    for (const v of [
      "privacy@moch.example",
      "a@example.com",
      "x@foo.test",
      "https://acme.example/privacy",
      "b@localhost",
    ]) {
      expect(isPlaceholderAddress(v), v).toBe(true);
    }
    for (const v of [
      "privacy@twilio.com",
      "https://www.microsoft.com/concern/privacy",
      "a@examples.com",
      "a@example.dk",
    ]) {
      expect(isPlaceholderAddress(v), v).toBe(false);
    }
  });
});

// ---------------------------------------------------------------------------------------------- through the validator

function shipped(): RawContent {
  return structuredClone(readRawContent("."));
}

function file(raw: RawContent, path: string): Record<string, unknown> {
  const found = [...raw.subprocessors, ...raw.changes].find((f) => f.path === path);
  if (!found) throw new Error(`no ${path}`);
  return found.data as Record<string, unknown>;
}

type Step = Record<string, unknown>;

/** AWS Europe announces its own sub-processor from `effective`, `days` after announcing it. */
function withChainEntry(raw: RawContent, entry: Record<string, unknown>, days = 31): RawContent {
  const aws = file(raw, "content/subprocessors/aws-europe.mdx");
  const effective = "2027-01-04";
  const announced = new Date(Date.parse(`${effective}T00:00:00Z`) - days * 86_400_000).toISOString().slice(0, 10);
  (aws.timeline as Step[]).push({ from: effective, subprocessors: [entry] });
  raw.changes.push({
    path: "content/changes/2027-01-04-aws-relay.mdx",
    data: {
      id: "2027-01-04-aws-relay",
      announced,
      effective,
      kind: "changed",
      aspects: ["subprocessors"],
      subprocessors: ["aws-europe"],
      summary: { da: "AWS tager Relay i brug.", en: "AWS engages Relay." },
    },
  });
  return raw;
}

const relay = (location: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  name: "Relay",
  entity: { name: "Relay Inc.", address: { street: "1 Main Street", city: "Seattle", country: "US" } },
  contact: { email: "privacy@relay.com" },
  purpose: { da: "Videresender e-mail", en: "Relays email" },
  locations: [location],
  ...extra,
});

describe("the sub-processor chain (EDPB Opinion 22/2024)", () => {
  const us = { country: "US", appliesTo: [{ regions: ["eea", "de"] }] };
  it("accepts a sub-sub-processor announced 30 days ahead with a mechanism that fits", () => {
    const raw = withChainEntry(shipped(), relay({ ...us, transfer: { mechanism: "eu-us-dpf" } }));
    const { errors, content } = validateContent(raw, { today: TODAY });
    expect(errors).toEqual([]);
    // It is part of the entry: in Annex C for the customers its locations serve, not for the others.
    const eea = resolveAnnexC(content ?? { subprocessors: [] }, { on: "2027-01-04", region: "eea", cohort: "current" });
    expect(eea.entries.find((e) => e.id === "aws-europe")?.subprocessors?.map((c) => c.name)).toEqual(["Relay"]);
    const uk = resolveAnnexC(content ?? { subprocessors: [] }, { on: "2027-01-04", region: "uk", cohort: "current" });
    expect(uk.entries.find((e) => e.id === "aws-europe")?.subprocessors).toBeUndefined();
  });

  it("is announced like an addition: in the diff and in the notice's sentences", () => {
    const { content } = validateContent(
      withChainEntry(shipped(), relay({ ...us, transfer: { mechanism: "eu-us-dpf" } })),
      {
        today: TODAY,
      },
    );
    if (!content) throw new Error("invalid");
    const diff = diffAnnexC(
      resolveAnnexC(content, { on: "2027-01-03" }).entries,
      resolveAnnexC(content, { on: "2027-01-04" }).entries,
    );
    expect(diff.changed.find((c) => c.id === "aws-europe")?.subprocessorsAdded?.map((c) => c.name)).toEqual(["Relay"]);
    const personal = { locale: "en", dpaVersionsAdded: [] } as unknown as Parameters<typeof changeSentences>[1];
    expect(
      changeSentences(diff, personal, "en", content.vendor),
      JSON.stringify(changeSentences(diff, personal, "en", content.vendor)),
    ).toContain("Amazon Web Services (AWS Europe) engages Relay as its own sub-processor.");
  });

  it("the notice email carries it, with its address, contact, location and mechanism, and AWS's own list", async () => {
    const raw = shipped();
    file(raw, "content/subprocessors/aws-europe.mdx").subprocessorList = {
      url: "https://aws.amazon.com/compliance/sub-processors/",
      checked: "2026-11-20",
    };
    const before = validateContent(raw, { today: TODAY }).content;
    const after = validateContent(
      withChainEntry(structuredClone(raw), relay({ ...us, transfer: { mechanism: "eu-us-dpf" } })),
      {
        today: TODAY,
      },
    ).content;
    if (!before || !after) throw new Error("invalid");
    const notice = buildNotice(await annexCDocument(before), await annexCDocument(after), {
      publicationId: "pub-2",
      sequence: 2,
      publishedAt: "2026-11-23T08:00:00Z",
    });
    const personal = noticeFor(notice, { id: "s", locale: "en", topics: ["subprocessors"], regions: ["eea"] });
    if (!personal) throw new Error("an EEA subscriber should be told");
    const link = "https://portal.example/x";
    const mail = renderNotice({
      notice,
      personal,
      vendor: after.vendor,
      baseUrl: "https://portal.example",
      deadline: "2026-12-07",
      links: { object: link, manage: link, unsubscribe: link, oneClickUnsubscribe: link },
    });
    expect(mail.text).toContain("Amazon Web Services (AWS Europe) engages Relay as its own sub-processor.");
    expect(mail.text).toContain(
      "Own sub-processor: Relay (Relay Inc., 1 Main Street, Seattle, United States of America; privacy@relay.com): Relays email – United States of America: EU-US Data Privacy Framework",
    );
    expect(mail.text).toContain(
      "Own list of sub-processors: https://aws.amazon.com/compliance/sub-processors/ (checked 20 November 2026)",
    );
    expect(mail.html).toContain("Own sub-processor: Relay");
  });

  it("needs the 30 days' notice of a new sub-processor", () => {
    const { errors } = validateContent(
      withChainEntry(shipped(), relay({ ...us, transfer: { mechanism: "eu-us-dpf" } }), 20),
      {
        today: TODAY,
      },
    );
    expect(errors).toContainEqual(
      expect.objectContaining({
        rule: "notice-period",
        file: "content/changes/2027-01-04-aws-relay.mdx",
        field: "effective",
      }),
    );
  });

  it("its locations follow the same transfer rules, with the field path down the chain", () => {
    const field = "timeline.2.subprocessors.0.locations.0.transfer";
    const cases: [Record<string, unknown>, string, string][] = [
      [{ ...us }, "transfer-mechanism-required", field],
      [{ ...us, transfer: { mechanism: "scc-2021", sccModule: 2 } }, "scc-module", `${field}.sccModule`],
      [{ ...us, transfer: { mechanism: "bcr" } }, "bcr-affiliate", `${field}.mechanism`],
      [{ country: "US", transfer: { mechanism: "eu-us-dpf" } }, "mechanism-origin", `${field}.mechanism`],
      [{ ...us, transfer: { mechanism: "privacy-shield" } }, "privacy-shield", `${field}.mechanism`],
    ];
    for (const [location, rule, at] of cases) {
      const { errors } = validateContent(withChainEntry(shipped(), relay(location)), { today: TODAY });
      expect(errors, rule).toContainEqual(
        expect.objectContaining({ rule, file: "content/subprocessors/aws-europe.mdx", field: at }),
      );
    }
    // BCR is fine for a company of the sub-processor's own group.
    const affiliate = relay({ ...us, transfer: { mechanism: "bcr" } }, { relationship: "affiliate" });
    expect(validateContent(withChainEntry(shipped(), affiliate), { today: TODAY }).errors).toEqual([]);
  });

  it("a production build wants its contact data confirmed too", () => {
    const entry = relay({ ...us, transfer: { mechanism: "eu-us-dpf" } }, { unconfirmed: ["contact"] });
    const { warnings } = validateContent(withChainEntry(shipped(), entry), { today: TODAY });
    expect(warnings).toContainEqual(
      expect.objectContaining({ rule: "unconfirmed-contact", field: "timeline.2.subprocessors.0.contact" }),
    );
  });
});

describe("replacing the contracting legal entity (DPA 5.2)", () => {
  function withEntity(entity: Record<string, unknown>, days: number, before?: Record<string, unknown>): RawContent {
    const raw = shipped();
    const moch = file(raw, "content/subprocessors/moch.mdx");
    const timeline = moch.timeline as Step[];
    if (before && timeline[0]) timeline[0].entity = before;
    timeline.push({ from: "2027-01-04", entity });
    raw.changes.push({
      path: "content/changes/2027-01-04-moch-entity.mdx",
      data: {
        id: "2027-01-04-moch-entity",
        announced: new Date(Date.parse("2027-01-04T00:00:00Z") - days * 86_400_000).toISOString().slice(0, 10),
        effective: "2027-01-04",
        kind: "changed",
        aspects: ["entity", "name"],
        subprocessors: ["moch"],
        summary: { da: "Ny juridisk enhed.", en: "New legal entity." },
      },
    });
    return raw;
  }
  const address = { street: "Toldbodgade 51C", postalCode: "1253", city: "København", country: "DK" };
  const rules = (raw: RawContent) => validateContent(raw, { today: TODAY }).errors.map((e) => e.rule);

  it("another entity with 5 days' notice is refused; with 30 days it is accepted", () => {
    expect(rules(withEntity({ name: "MOCH Nordic ApS", address }, 5))).toContain("entity-replaced-notice");
    expect(rules(withEntity({ name: "MOCH Nordic ApS", address }, 30))).not.toContain("entity-replaced-notice");
  });
  it("the same company renamed (unchanged registration number) is not a replacement", () => {
    const before = { name: "MOCH A/S", registration: "CVR 25397096", address };
    expect(rules(withEntity({ name: "MOCH Danmark A/S", registration: "CVR 25397096", address }, 5, before))).toEqual(
      [],
    );
    expect(rules(withEntity({ name: "MOCH A/S", registration: "CVR 11111111", address }, 5, before))).toContain(
      "entity-replaced-notice",
    );
  });
  it("a new address of the same entity is no replacement", () => {
    const before = { name: "MOCH A/S", registration: "CVR 25397096", address };
    const moved = { ...before, address: { ...address, street: "Havnegade 1" } };
    expect(rules(withEntity(moved, 5, before))).toEqual([]);
  });
});

describe("unconfirmed flags", () => {
  it("must name a field that is given", () => {
    const raw = shipped();
    // MetaCompliance GmbH has no address in the content (the DPA gives none): flagging it says nothing.
    const gmbh = file(raw, "content/subprocessors/metacompliance-gmbh.mdx");
    const first = (gmbh.timeline as Step[])[0] as { entity: Record<string, unknown> };
    first.entity.unconfirmed = ["address"];
    const { errors } = validateContent(raw, { today: TODAY });
    expect(errors).toContainEqual({
      file: "content/subprocessors/metacompliance-gmbh.mdx",
      field: "timeline.0.entity.unconfirmed.0",
      rule: "schema",
      message: '"address" is not given here; leave it out of unconfirmed',
    });
  });
});
