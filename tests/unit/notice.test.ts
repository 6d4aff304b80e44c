import { describe, expect, it } from "vitest";
import type { AnnexCDocument, AnnexCEntry } from "../../domain/annex.ts";
import {
  batchIdempotencyKey,
  buildNotice,
  chunk,
  deliveryOfTags,
  deliveryTags,
  IDEMPOTENCY_WINDOW_MS,
  isPastIdempotencyWindow,
  type NoticeSubscriber,
  noticeFor,
  planFanout,
  publishDecision,
  RESEND_BATCH_LIMIT,
} from "../../domain/notice.ts";
import type { Change } from "../../domain/schema/change.ts";
import type { Location } from "../../domain/schema/subprocessor.ts";
import { annexEntry } from "./annex-entry.ts";

function entry(id: string, locations: Location[], since = "2024-07-01"): AnnexCEntry {
  return annexEntry(id, { locations, since });
}

function change(id: string, subprocessors: string[], extra: Partial<Change> = {}): Change {
  return {
    id,
    announced: "2026-10-01",
    effective: "2026-11-15",
    kind: "added",
    subprocessors,
    summary: { da: "Ny", en: "New" },
    ...extra,
  };
}

function doc(entries: AnnexCEntry[], changes: Change[], dpa = ["2024-07-01"]): AnnexCDocument {
  return {
    format: "annex-c/1",
    fingerprint: `fp-${entries.map((e) => e.id).join("+")}-${changes.length}-${dpa.join("+")}`,
    vendor: { name: "V", legalEntity: "V A/S", registration: "CVR 1" },
    snapshot: { entries, dpaVersions: dpa.map((version) => ({ version, effectiveFrom: version })) },
    regions: [],
    cohorts: [],
    changes,
  };
}

const base = [
  entry("aws", [
    { country: "IE", city: "Dublin", appliesTo: [{ regions: ["eea", "de"] }] },
    { country: "GB", city: "London", appliesTo: [{ regions: ["uk"] }], transfer: { mechanism: "adequacy" } },
  ]),
];
const before = doc(base, [change("c0", ["aws"])]);
const meta = { publicationId: "pub-2", sequence: 2, publishedAt: "2026-10-01T08:00:00.000Z" };

function sub(id: string, extra: Partial<NoticeSubscriber> = {}): NoticeSubscriber {
  return { id, locale: "da", topics: ["subprocessors", "dpa"], regions: [], ...extra };
}

describe("publishDecision", () => {
  it("records a baseline and mails nobody when nothing was published before (fresh deploy)", () => {
    expect(publishDecision(null, { fingerprint: "a" })).toEqual({ kind: "baseline" });
  });
  it("does nothing for the fingerprint already published", () => {
    expect(publishDecision("a", { fingerprint: "a" })).toEqual({ kind: "unchanged", fingerprint: "a" });
  });
  it("publishes a new fingerprint and chains it to the previous one", () => {
    expect(publishDecision("a", { fingerprint: "b" })).toEqual({ kind: "publish", previousFingerprint: "a" });
  });
});

describe("noticeFor: who is told what", () => {
  const addedDe = entry(
    "hetzner",
    [{ country: "DE", city: "Falkenstein", appliesTo: [{ regions: ["de"] }] }],
    "2026-11-15",
  );
  const after = doc([...base, addedDe], [change("c0", ["aws"]), change("c1", ["hetzner"])]);
  const notice = buildNotice(before, after, meta);

  it("announces only the changes the previous publication did not have", () => {
    expect(notice.announced.map((c) => c.id)).toEqual(["c1"]);
    expect(notice.previousFingerprint).toBe(before.fingerprint);
  });

  it("tells a subscriber of the region the change touches, with its effective date and full regional Annex C", () => {
    const p = noticeFor(notice, sub("s1", { regions: ["de"] }));
    expect(p?.topics).toEqual(["subprocessors"]);
    expect(p?.diff.added.map((e) => e.id)).toEqual(["hetzner"]);
    expect(p?.annexC.map((e) => e.id)).toEqual(["aws", "hetzner"]);
    expect(p?.annexC[0]?.locations.map((l) => l.country)).toEqual(["IE"]);
    expect(p?.changes.map((c) => c.id)).toEqual(["c1"]);
    expect(p?.effectiveFrom).toBe("2026-11-15");
  });

  it("does not tell a subscriber whose region the change does not touch", () => {
    expect(noticeFor(notice, sub("s2", { regions: ["uk"] }))).toBeUndefined();
  });

  it("tells a subscriber of every region (no region chosen) about any change", () => {
    expect(noticeFor(notice, sub("s3"))?.diff.added).toHaveLength(1);
  });

  it("keeps DPA-only subscribers out of sub-processor changes", () => {
    expect(noticeFor(notice, sub("s4", { topics: ["dpa"] }))).toBeUndefined();
  });

  it("tells DPA-only subscribers about a new DPA version, and sub-processor-only subscribers not", () => {
    const dpaOnly = buildNotice(before, doc(base, before.changes, ["2024-07-01", "2026-12-01"]), meta);
    const p = noticeFor(dpaOnly, sub("s5", { topics: ["dpa"], locale: "en" }));
    expect(p?.topics).toEqual(["dpa"]);
    expect(p?.dpaVersionsAdded).toEqual([{ version: "2026-12-01", effectiveFrom: "2026-12-01" }]);
    expect(p?.locale).toBe("en");
    expect(noticeFor(dpaOnly, sub("s6", { topics: ["subprocessors"] }))).toBeUndefined();
  });

  it("reports a location added to an existing sub-processor as a change for that region only", () => {
    const moved = doc(
      [
        entry("aws", [
          ...(base[0]?.locations ?? []),
          { country: "CA", city: "Montreal", appliesTo: [{ regions: ["ca"] }], transfer: { mechanism: "adequacy" } },
        ]),
      ],
      [change("c0", ["aws"]), change("c2", ["aws"], { kind: "changed", aspects: ["locations"] })],
    );
    const n = buildNotice(before, moved, meta);
    expect(noticeFor(n, sub("ca", { regions: ["ca"] }))?.diff.added.map((e) => e.id)).toEqual(["aws"]);
    const all = noticeFor(n, sub("all"));
    expect(all?.diff.changed[0]?.locationsAdded.map((l) => l.country)).toEqual(["CA"]);
    expect(noticeFor(n, sub("uk", { regions: ["uk"] }))).toBeUndefined();
  });
});

describe("planFanout", () => {
  const after = doc([...base, entry("new", [{ country: "DK" }])], [change("c0", ["aws"]), change("c1", ["new"])]);
  const notice = buildNotice(before, after, meta);

  it("cuts recipients into chunks of at most the Resend batch limit (100), in id order, nobody twice", () => {
    const subs = Array.from({ length: 250 }, (_, i) => sub(`s${String(249 - i).padStart(3, "0")}`));
    const plan = planFanout(notice, subs);
    expect(plan.chunks.map((c) => c.subscriberIds.length)).toEqual([100, 100, 50]);
    const all = plan.chunks.flatMap((c) => c.subscriberIds);
    expect(new Set(all).size).toBe(250);
    expect(all).toEqual([...all].sort());
    expect(plan.chunks.map((c) => c.index)).toEqual([0, 1, 2]);
  });

  it("gives the same plan when run twice, whatever order the subscribers come in", () => {
    const subs = [sub("b"), sub("a"), sub("c", { topics: ["dpa"] })];
    const one = planFanout(notice, subs, { batchSize: 2 });
    const two = planFanout(notice, [...subs].reverse(), { batchSize: 2 });
    expect(one).toEqual(two);
    expect(one.recipients).toEqual(["a", "b"]);
    expect(one.notConcerned).toEqual(["c"]);
  });

  it("refuses a batch larger than Resend accepts", () => {
    expect(() => planFanout(notice, [], { batchSize: RESEND_BATCH_LIMIT + 1 })).toThrow(/at most 100/);
  });

  it("chunk rejects a size below 1", () => {
    expect(() => chunk([1], 0)).toThrow(RangeError);
    expect(chunk([1, 2, 3], 2)).toEqual([[1, 2], [3]]);
  });
});

describe("batchIdempotencyKey", () => {
  it("is the same for the same publication, chunk and recipients, in any order", async () => {
    expect(await batchIdempotencyKey("p", 0, ["a", "b"])).toBe(await batchIdempotencyKey("p", 0, ["b", "a"]));
  });
  it("differs by publication, chunk and recipient set", async () => {
    const k = await batchIdempotencyKey("p", 0, ["a", "b"]);
    expect(await batchIdempotencyKey("q", 0, ["a", "b"])).not.toBe(k);
    expect(await batchIdempotencyKey("p", 1, ["a", "b"])).not.toBe(k);
    expect(await batchIdempotencyKey("p", 0, ["a"])).not.toBe(k);
  });
  it("fits Resend's 256-character limit", async () => {
    expect((await batchIdempotencyKey("x".repeat(300), 0, ["a"])).length).toBeLessThanOrEqual(256);
  });
});

describe("idempotency window", () => {
  it("a delivery first attempted 24 h ago or more is past Resend's idempotency window", () => {
    const first = "2026-10-01T08:00:00.000Z";
    expect(isPastIdempotencyWindow(first, new Date(Date.parse(first) + IDEMPOTENCY_WINDOW_MS - 1))).toBe(false);
    expect(isPastIdempotencyWindow(first, new Date(Date.parse(first) + IDEMPOTENCY_WINDOW_MS))).toBe(true);
  });
});

describe("delivery tags: the provider sends back which delivery an event is about", () => {
  it("name the notice and the recipient, and read back as Resend sends them, an object or a list", () => {
    const id = "3f1c2b9e-8d4a-4c1f-9e2b-7a6d5c4b3a21";
    const tags = deliveryTags(12, id);
    expect(tags).toEqual([
      { name: "notice", value: "12" },
      { name: "recipient", value: id },
    ]);
    const asObject = Object.fromEntries((tags ?? []).map((t) => [t.name, t.value]));
    expect(deliveryOfTags(asObject)).toEqual({ publicationId: 12, recipientId: id });
    expect(deliveryOfTags(tags)).toEqual({ publicationId: 12, recipientId: id });
  });

  it("are left off for an id Resend would refuse in a tag, and name nothing unless both are well formed", () => {
    expect(deliveryTags(1, "a b")).toBeUndefined();
    expect(deliveryTags(1, "x".repeat(257))).toBeUndefined();
    for (const tags of [
      undefined,
      null,
      "notice=1",
      {},
      { notice: "1" },
      { recipient: "r-1" },
      { notice: "0", recipient: "r-1" },
      { notice: "1e3", recipient: "r-1" },
      { notice: 1, recipient: "r-1" },
      { notice: "1", recipient: "r 1" },
      [{ name: "notice", value: "1" }],
    ]) {
      expect(deliveryOfTags(tags), JSON.stringify(tags)).toBeUndefined();
    }
  });
});
