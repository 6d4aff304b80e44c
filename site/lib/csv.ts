import type { AnnexCEntry } from "../../domain/annex.ts";
import { toCsv } from "../../domain/csv.ts";
import { type AudienceNames, appliesToLabels, mechanismLabel } from "../../domain/labels.ts";
import type { Entity, Location } from "../../domain/schema/subprocessor.ts";

export const CSV_COLUMNS = [
  "id",
  "name",
  "entity",
  "country",
  "city",
  "applies_to",
  "mechanism",
  "since",
  "subprocessor_of",
  "own_list",
  "not_stated_in_dpa",
] as const;

/** The fields of a row the DPA does not state (content `unconfirmed` flags), as `entity.address; transfer`. */
function notStated(entity: Entity, location: Location, top: readonly string[] = []): string {
  const fields = [
    ...top,
    ...(entity.unconfirmed ?? []).map((k) => `entity.${k}`),
    ...(entity.address ? [] : ["entity.address"]),
    ...(location.unconfirmed ?? []),
  ];
  return fields.join("; ");
}

/**
 * Annex C as a spreadsheet: one row per sub-processor and location (English words, ISO country codes), so a
 * customer can filter it by country or by who it applies to; then one row per location of each sub-processor's own
 * sub-processors, naming the sub-processor in `subprocessor_of` (EDPB Opinion 22/2024: the whole chain). With a byte
 * order mark, and no cell that a spreadsheet would run as a formula (domain/csv.ts).
 */
export function annexCsv(entries: AnnexCEntry[], vendor: AudienceNames): string {
  /** One row: `who` is the entry itself or one of its own sub-processors (then `of` names the entry). */
  const row = (
    e: AnnexCEntry,
    who: { name: string; entity: Entity; unconfirmed?: readonly string[] | undefined },
    l: Location,
    of: string,
    ownList: string,
  ) => [
    e.id,
    who.name,
    who.entity.name,
    l.country,
    l.city ?? "",
    appliesToLabels(l.appliesTo, vendor, "en").join("; "),
    mechanismLabel(l, "en"),
    e.since,
    of,
    ownList,
    notStated(who.entity, l, who.unconfirmed),
  ];
  const rows = entries.flatMap((e) => {
    const ownList = e.subprocessorList ? `${e.subprocessorList.url} (checked ${e.subprocessorList.checked})` : "";
    return [
      ...e.locations.map((l) => row(e, e, l, "", ownList)),
      ...(e.subprocessors ?? []).flatMap((c) => c.locations.map((l) => row(e, c, l, e.name, ""))),
    ];
  });
  return toCsv(CSV_COLUMNS, rows, { windows: true, bom: true });
}
