import { stringify } from "csv-stringify/sync";
import type { AnnexCEntry } from "../../domain/annex.ts";
import { appliesToLabels, mechanismLabel } from "../../domain/labels.ts";
import type { Vendor } from "../../domain/schema/vendor.ts";

export const CSV_COLUMNS = ["id", "name", "entity", "country", "city", "applies_to", "mechanism", "since"] as const;

/**
 * Annex C as a spreadsheet: one row per sub-processor and location (English words, ISO country codes), so a
 * customer can filter it by country or by who it applies to. It starts with a UTF-8 byte order mark, without which
 * spreadsheet programs misread names such as "København".
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
  return stringify(rows, { header: true, columns: [...CSV_COLUMNS], record_delimiter: "windows", bom: true });
}
