import type { AnnexCEntry } from "../../domain/annex.ts";
import { toCsv } from "../../domain/csv.ts";
import { appliesToLabels, mechanismLabel } from "../../domain/labels.ts";
import type { Vendor } from "../../domain/schema/vendor.ts";

export const CSV_COLUMNS = ["id", "name", "entity", "country", "city", "applies_to", "mechanism", "since"] as const;

/**
 * Annex C as a spreadsheet: one row per sub-processor and location (English words, ISO country codes), so a
 * customer can filter it by country or by who it applies to. With a byte order mark, and no cell that a spreadsheet
 * would run as a formula (domain/csv.ts).
 */
export function annexCsv(entries: AnnexCEntry[], vendor: Pick<Vendor, "regions" | "cohorts">): string {
  const rows = entries.flatMap((e) =>
    e.locations.map((l) => [
      e.id,
      e.name,
      e.entity.name,
      l.country,
      l.city ?? "",
      appliesToLabels(l.appliesTo, vendor, "en").join("; "),
      mechanismLabel(l, "en"),
      e.since,
    ]),
  );
  return toCsv(CSV_COLUMNS, rows, { windows: true, bom: true });
}
