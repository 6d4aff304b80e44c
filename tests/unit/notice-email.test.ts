import { describe, expect, it } from "vitest";
import { loadContent } from "../../content-io/load-content.ts";
import { type AnnexCDocument, annexCDocument } from "../../domain/annex.ts";
import { objectionDeadline } from "../../domain/calendar.ts";
import type { Content } from "../../domain/content.ts";
import { diffAnnexC } from "../../domain/diff.ts";
import { appliesToLabels, locationLabel } from "../../domain/labels.ts";
import { buildNotice, noticeFor } from "../../domain/notice.ts";
import type { SubProcessor } from "../../domain/schema/subprocessor.ts";
import { changeSentences, renderNotice } from "../../emails/notice.ts";
import { renderObjectionReceipt, renderVendorObjectionAlert } from "../../emails/objection.ts";

// The shipped content plus one new sub-processor for UK customers, announced with the 30 days' notice (DPA 5.2).
function shipped(): Content {
  const { content, errors } = loadContent(".", "2026-11-23");
  if (!content) throw new Error(`shipped content does not validate: ${JSON.stringify(errors)}`);
  return content;
}

const newcomer: SubProcessor = {
  id: "acme-mail",
  relationship: "third-party",
  website: "https://acme.example",
  contact: { email: "privacy@acme.example" },
  timeline: [
    {
      from: "2027-01-04",
      name: "Acme <Mail> Ltd",
      entity: { name: "Acme Mail Ltd", address: { street: "1 High St", city: "Leeds", country: "GB" } },
      purpose: { da: "Udsendelse af systemmails", en: "Sends system email" },
      services: ["transactional-email"],
      dataCategories: ["email-address"],
      locations: [
        { country: "GB", city: "Leeds", appliesTo: [{ regions: ["uk"] }], transfer: { mechanism: "adequacy" } },
      ],
    },
  ],
};

async function documents(): Promise<{ before: AnnexCDocument; after: AnnexCDocument }> {
  const content = shipped();
  const before = await annexCDocument(content);
  const after = await annexCDocument({
    ...content,
    subprocessors: [...content.subprocessors, newcomer],
    changes: [
      ...content.changes,
      {
        id: "2027-01-04-acme-mail-added",
        announced: "2026-11-23",
        effective: "2027-01-04",
        kind: "added",
        subprocessors: ["acme-mail"],
        summary: { da: "Acme Mail tilføjes for britiske kunder.", en: "Acme Mail is added for UK customers." },
      },
    ],
  });
  return { before, after };
}

const links = {
  object: "https://portal.example/en/subscription/object/pub-2?token=tok",
  manage: "https://portal.example/en/subscription/manage?token=tok",
  unsubscribe: "https://portal.example/en/subscription/unsubscribe?token=tok",
  oneClickUnsubscribe: "https://portal.example/api/subscriptions/unsubscribe?token=tok",
};

describe("renderNotice", async () => {
  const { before, after } = await documents();
  const content = shipped();
  const notice = buildNotice(before, after, {
    publicationId: "pub-2",
    sequence: 2,
    publishedAt: "2026-11-23T08:00:00Z",
  });
  // DPA 5.3, as the send loop computes it once per batch and stores it with the claim.
  const deadlineOn = (receivedAt: Date) =>
    objectionDeadline(receivedAt, content.vendor.workingDayCalendar, content.vendor.objectionWorkingDays);
  // Monday 23 November 2026, 10:00 in Copenhagen.
  const deadline = deadlineOn(new Date("2026-11-23T09:00:00Z"));

  it("tells a UK subscriber in English what changed, when, the DPA 5.3 deadline and carries their full Annex C", () => {
    const personal = noticeFor(notice, { id: "s", locale: "en", topics: ["subprocessors"], regions: ["uk"] });
    if (!personal) throw new Error("the UK subscriber should be told");
    const mail = renderNotice({
      notice,
      personal,
      vendor: content.vendor,
      baseUrl: "https://portal.example/",
      deadline,
      links,
    });
    expect(mail.subject).toBe("Change to MOCH A/S's sub-processors from 4 January 2027");
    expect(mail.text).toContain("Acme <Mail> Ltd is added as a sub-processor.");
    // DPA 5.3: 10 Danish working days from receipt (Mon 23 Nov 2026) → Monday 7 December 2026.
    expect(mail.text).toContain("You may object up to and including 7 December 2026");
    expect(mail.text).toContain(`Object to this change: ${links.object}`);
    // The full Annex C for the UK: every sub-processor that applies there, with UK locations only.
    for (const entry of personal.annexC) expect(mail.text).toContain(entry.name);
    expect(personal.annexC.length).toBeGreaterThan(3);
    expect(mail.text).toMatch(/^ {3}- United Kingdom \(/m);
    expect(mail.text).not.toMatch(/^ {3}- Canada/m);
    expect(mail.text).toContain(`Fingerprint (SHA-256) of the published list: ${after.fingerprint}`);
    expect(mail.text).toContain(`Previous fingerprint: ${before.fingerprint}`);
    // The permanent JSON of the version it announces, not the moving /annex-c.json.
    expect(mail.text).toContain("Download Annex C as JSON: https://portal.example/annex-c/2027-01-04.json");
    expect(mail.text).not.toContain("https://portal.example/annex-c.json");
    expect(mail.html).toContain("Acme &lt;Mail&gt; Ltd");
    expect(mail.html).not.toContain("Acme <Mail>");
    expect(mail.html).toContain('<table role="table"');
    expect(mail.html).toContain(`href="${links.unsubscribe.replaceAll("&", "&amp;")}"`);
    expect(mail.headers).toEqual({
      "List-Unsubscribe": `<${links.oneClickUnsubscribe}>`,
      "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    });
  });

  it("links the audience's own version JSON when its region and cohort are known, and the deadline calendar", () => {
    const personal = noticeFor(notice, { id: "s", locale: "en", topics: ["subprocessors"], regions: ["uk"] });
    if (!personal) throw new Error("the UK subscriber should be told");
    const [region] = content.vendor.regions.map((r) => r.id);
    const [cohort] = content.vendor.cohorts.map((c) => c.id);
    const deadlineCalendar = "https://portal.example/api/notices/2/deadline.ics?token=tok";
    const mail = renderNotice({
      notice,
      personal,
      vendor: content.vendor,
      baseUrl: "https://portal.example",
      deadline,
      links: { ...links, deadlineCalendar },
      audience: { region: region as string, cohort: cohort as string },
    });
    expect(mail.text).toContain(`https://portal.example/annex-c/2027-01-04/${region}/${cohort}.json`);
    expect(mail.text).toContain(`Add the deadline to your calendar: ${deadlineCalendar}`);
    expect(mail.html).toContain(`<a href="${deadlineCalendar}">Add the deadline to your calendar</a>`);
  });

  it("writes the Danish notice in Danish, with Danish dates", () => {
    const personal = noticeFor(notice, { id: "s", locale: "da", topics: ["subprocessors", "dpa"], regions: [] });
    if (!personal) throw new Error("an all-regions subscriber should be told");
    const mail = renderNotice({
      notice,
      personal,
      vendor: content.vendor,
      baseUrl: "https://portal.example",
      deadline,
      links,
    });
    expect(mail.subject).toBe("Ændring af MOCH A/S' underdatabehandlere fra 4. januar 2027");
    expect(mail.text).toContain("tilføjes som underdatabehandler");
    expect(mail.text).toContain("Du kan gøre indsigelse til og med 7. december 2026");
    expect(mail.html).toContain('<html lang="da">');
    expect(mail.text).toMatch(/^ {3}- Canada/m);
  });

  it("counts the deadline from receipt, skipping Christmas (customary closing days in vendor.yaml)", () => {
    const personal = noticeFor(notice, { id: "s", locale: "en", topics: ["subprocessors"], regions: ["uk"] });
    if (!personal) throw new Error("unreachable");
    const mail = renderNotice({
      notice,
      personal,
      vendor: content.vendor,
      baseUrl: "https://portal.example",
      // Friday 18 December 2026: 21, 22, 23, 28, 29, 30 Dec, 4, 5, 6, 7 Jan (24–27, 31 Dec and 1 Jan closed).
      deadline: deadlineOn(new Date("2026-12-18T10:00:00Z")),
      links,
    });
    expect(mail.text).toContain("up to and including 7 January 2027");
  });

  it("renders the same bytes for the same input (a retried batch must carry the same payload)", () => {
    const personal = noticeFor(notice, { id: "s", locale: "en", topics: ["subprocessors"], regions: ["uk"] });
    if (!personal) throw new Error("unreachable");
    const input = { notice, personal, vendor: content.vendor, baseUrl: "https://portal.example", deadline, links };
    expect(renderNotice(input)).toEqual(renderNotice(input));
  });
});

describe("objection emails", () => {
  const base = {
    vendor: { name: "MOCH A/S", legalEntity: "MOCH A/S", privacyContact: "privacy@moch.example" },
    objectionId: "obj-1",
    publicationId: "pub-2",
    fingerprint: "abc",
    organisation: "Kunde <A/S>",
    reason: "Vi ønsker ikke data i UK.",
    receivedAt: "2026-11-24T10:00:00.000Z",
    deadline: "2026-12-07",
    subscriberEmail: "dpo@kunde.example",
  };
  it("gives the subscriber a receipt naming the organisation and the deadline met", () => {
    const mail = renderObjectionReceipt({ ...base, locale: "da", links });
    expect(mail.text).toContain("Kunde <A/S>");
    expect(mail.text).toContain("7. december 2026");
    expect(mail.html).toContain("Kunde &lt;A/S&gt;");
    expect(mail.headers["List-Unsubscribe-Post"]).toBe("List-Unsubscribe=One-Click");
  });
  it("alerts the vendor with who objected, to what, and why", () => {
    const mail = renderVendorObjectionAlert({ ...base, adminUrl: "https://portal.example/api/admin/publications" });
    expect(mail.subject).toContain("Kunde <A/S>");
    expect(mail.text).toContain("dpo@kunde.example");
    expect(mail.text).toContain("Vi ønsker ikke data i UK.");
  });
});

describe("a location whose applicability alone changes", async () => {
  const content = shipped();
  const { after } = await documents();
  const entry = after.snapshot.entries.find((e) => e.locations.some((l) => l.appliesTo));
  if (!entry) throw new Error("the shipped Annex C should have a location that applies to some customers only");
  const index = entry.locations.findIndex((l) => l.appliesTo);
  const widened = {
    ...entry,
    locations: entry.locations.map((l, i) => (i === index ? { ...l, appliesTo: undefined } : l)),
  };
  const diff = diffAnnexC([entry], [widened]);
  const change = diff.changed[0];

  it("is one location reapplied, not a location removed beside the same location added", () => {
    expect(change?.locationsAdded).toEqual([]);
    expect(change?.locationsRemoved).toEqual([]);
    expect(change?.locationsReapplied).toEqual([{ before: entry.locations[index], after: widened.locations[index] }]);
  });

  it("is told as who the location now applies to, in both languages", () => {
    const location = entry.locations[index];
    if (!location) throw new Error("no location");
    for (const locale of ["da", "en"] as const) {
      const personal = { locale, dpaVersionsAdded: [] } as unknown as Parameters<typeof changeSentences>[1];
      const [sentence] = changeSentences(diff, personal, locale, content.vendor);
      const was = appliesToLabels(location.appliesTo, content.vendor, locale).join("; ");
      const now = appliesToLabels(undefined, content.vendor, locale).join("; ");
      expect(sentence).toContain(
        `${locationLabel(location, locale)}, ${locale === "da" ? "hvem det gælder for" : "who it applies to"}: ${was} → ${now}`,
      );
      expect(sentence).not.toMatch(/ends|ophører|new processing location|nyt behandlingssted/);
    }
  });
});
