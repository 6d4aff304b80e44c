// Generates a large, valid content tree (a vendor with many sub-processors and changes) for `npm run bench`.
import { cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { addDays } from "../../domain/dates.ts";

const COUNTRIES = ["IE", "NL", "DE", "FR", "SE", "DK", "FI", "PT", "ES", "IT"] as const;
const REGIONS = ["uk", "de", "ca", "eea", "ch"] as const;

export interface GeneratedContent {
  subprocessors: number;
  changes: number;
  versionDates: number;
}

/**
 * Writes `subprocessors` sub-processors to `root/content`, each added once and later moved once, so there are
 * twice as many change entries. Changes are grouped on `dates` effective dates, as a real change log would be.
 */
export function generateContent(root: string, options: { subprocessors: number; dates: number }): GeneratedContent {
  const dir = join(root, "content");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "subprocessors"), { recursive: true });
  mkdirSync(join(dir, "changes"), { recursive: true });
  cpSync("content/vendor.yaml", join(dir, "vendor.yaml"));
  cpSync("content/dpa", join(dir, "dpa"), { recursive: true });

  const half = Math.max(1, Math.floor(options.dates / 2));
  const addedOn = (i: number) => addDays("2023-10-01", (i % half) * 14);
  const movedOn = (i: number) => addDays("2023-10-01", (half + (i % half)) * 14);
  const groups = new Map<string, { kind: "added" | "changed"; ids: string[] }>();

  for (let i = 0; i < options.subprocessors; i++) {
    const id = `vendor-${String(i).padStart(4, "0")}`;
    const country = COUNTRIES[i % COUNTRIES.length] ?? "IE";
    const moved = COUNTRIES[(i + 3) % COUNTRIES.length] ?? "NL";
    const region = REGIONS[i % REGIONS.length] ?? "uk";
    const data = {
      id,
      relationship: i % 5 === 0 ? "affiliate" : "third-party",
      website: `https://${id}.example`,
      contact: { email: `privacy@${id}.example` },
      timeline: [
        {
          from: addedOn(i),
          name: `Vendor ${i} Cloud`,
          entity: {
            name: `Vendor ${i} Ltd`,
            address: { street: `${i} Example Street`, city: "Dublin", country: "IE" },
          },
          purpose: { da: `Behandler data for tjeneste nummer ${i}.`, en: `Processes data for service number ${i}.` },
          services: ["platform-hosting"],
          dataCategories: ["name", "email-address"],
          locations: [
            { country, city: "Capital" },
            { country: "IE", city: "Dublin", appliesTo: [{ regions: [region] }] },
          ],
        },
        { from: movedOn(i), locations: [{ country: moved, city: "Capital" }] },
      ],
    };
    writeFileSync(join(dir, "subprocessors", `${id}.mdx`), `---\n${stringify(data)}---\n`);
    for (const [date, kind] of [
      [addedOn(i), "added"],
      [movedOn(i), "changed"],
    ] as const) {
      const key = `${date}-${kind}-${i % 2}`;
      const group = groups.get(key) ?? { kind, ids: [] };
      group.ids.push(id);
      groups.set(key, group);
    }
  }
  // One change entry per sub-processor and step keeps the count at twice the sub-processors.
  let changes = 0;
  for (const [key, group] of groups) {
    const effective = key.slice(0, 10);
    for (const id of group.ids) {
      const change = {
        id: `${effective}-${id}-${group.kind}`,
        announced: addDays(effective, -31),
        effective,
        kind: group.kind,
        ...(group.kind === "changed" ? { aspects: ["locations"] } : {}),
        subprocessors: [id],
        summary: { da: `${id} ${group.kind === "added" ? "tilføjes" : "flytter"}.`, en: `${id} is ${group.kind}.` },
      };
      writeFileSync(join(dir, "changes", `${change.id}.mdx`), `---\n${stringify(change)}---\n`);
      changes++;
    }
  }
  return { subprocessors: options.subprocessors, changes, versionDates: half * 2 };
}
