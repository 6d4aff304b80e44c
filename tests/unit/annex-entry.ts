import type { AnnexCEntry } from "../../domain/annex.ts";

/** One Annex C row for planner tests: a third party in Dublin; the test names what it varies. */
export function annexEntry(id: string, overrides: Partial<AnnexCEntry> = {}): AnnexCEntry {
  return {
    id,
    name: id.toUpperCase(),
    relationship: "third-party",
    website: `https://${id}.example`,
    contact: { email: `privacy@${id}.example` },
    entity: { name: `${id} Ltd`, address: { street: "1 Road", city: "Dublin", country: "IE" } },
    purpose: { da: "Hosting", en: "Hosting" },
    services: ["platform-hosting"],
    dataCategories: ["email-address"],
    locations: [{ country: "IE", city: "Dublin" }],
    since: "2024-07-01",
    ...overrides,
  };
}
