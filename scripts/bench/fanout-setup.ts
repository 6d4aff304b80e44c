// What both fan-out benchmarks share (scripts/bench/fanout.ts in Node, scripts/bench/fanout-engine.ts in workerd): the
// Annex C before and after one change, the fake Resend in its own process, and the seeded fault script.
import { loadContent } from "../../content-io/load-content.ts";
import { type AnnexCDocument, annexCDocument } from "../../domain/annex.ts";
import type { SubProcessor } from "../../domain/schema/subprocessor.ts";
import type { Vendor } from "../../domain/schema/vendor.ts";
import type { Reply } from "../../testing/resend-server.ts";

/** mulberry32: a small seeded PRNG, so a run can be replayed. */
export function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NEWCOMER: SubProcessor = {
  id: "bench-support-desk",
  relationship: "third-party",
  website: "https://support-desk.example",
  contact: { email: "privacy@support-desk.example" },
  timeline: [
    {
      from: "2027-01-04",
      name: "Bench Support Desk ApS",
      entity: { name: "Bench Support Desk ApS", address: { street: "Havnegade 1", city: "København", country: "DK" } },
      purpose: { da: "Drift af supportsystemet", en: "Runs the support ticket system" },
      services: ["customer-support"],
      dataCategories: ["name", "email-address"],
      locations: [{ country: "DK", city: "København" }],
    },
  ],
};

/** The repository's Annex C, and the same with one sub-processor added (a change that concerns every recipient). */
export async function benchDocuments(): Promise<{ before: AnnexCDocument; after: AnnexCDocument; vendor: Vendor }> {
  const { content, errors } = loadContent(".");
  if (!content) throw new Error(`content does not validate: ${errors.length} error(s)`);
  const before = await annexCDocument(content);
  const after = await annexCDocument({
    ...content,
    subprocessors: [...content.subprocessors, NEWCOMER],
    changes: [
      ...content.changes,
      {
        id: "2027-01-04-bench-support-desk-added",
        announced: "2026-11-23",
        effective: "2027-01-04",
        kind: "added",
        subprocessors: [NEWCOMER.id],
        summary: { da: "En ny supportleverandør tilføjes.", en: "A new support provider is added." },
      },
    ],
  });
  return { before, after, vendor: content.vendor };
}

/**
 * `count` scripted answers of which a `faultRate` share fail, drawn from a seeded PRNG: 429 with retry-after 1 and 500
 * (nothing sent), and, with `lostResponses`, a batch accepted whose answer is lost (sent; the retry is a replay).
 */
export function faultScript(count: number, faultRate: number, seed: number, lostResponses = false): Reply[] {
  const random = prng(seed);
  const kinds = lostResponses ? 3 : 2;
  const replies: Reply[] = [];
  for (let i = 0; i < count; i++) {
    const r = random();
    const k = Math.floor((r / faultRate) * kinds);
    if (r >= faultRate) replies.push({ kind: "ok" });
    else if (k === 0) replies.push({ kind: "rate-limit", retryAfterSeconds: 1 });
    else if (k === 1) replies.push({ kind: "status", status: 500 });
    else replies.push({ kind: "deliver-then-drop" });
  }
  return replies;
}

/** How many of the scripted faults the run met: the script is used in order by the requests that reached it. */
export function faultsMet(
  replies: readonly Reply[],
  requests: readonly { reply: string }[],
): Record<"rateLimited" | "failed" | "lost", number> {
  const met = { rateLimited: 0, failed: 0, lost: 0 };
  const reached = requests.filter((r) => !["replayed", "conflict", "invalid", "over-limit"].includes(r.reply));
  for (let i = 0; i < reached.length && i < replies.length; i++) {
    const kind = replies[i]?.kind;
    if (kind === "rate-limit") met.rateLimited++;
    else if (kind === "status") met.failed++;
    else if (kind === "deliver-then-drop") met.lost++;
  }
  return met;
}
