import {
  addressLabel,
  appliesToLabels,
  chainEntryLabel,
  locationLabel,
  mechanismLabel,
  relationshipLabel,
} from "../../domain/labels.ts";
import type { Locale, Localized } from "../../domain/schema/common.ts";
import type { ChainEntry, Entity, Location, SubProcessor } from "../../domain/schema/subprocessor.ts";
import type { Vendor } from "../../domain/schema/vendor.ts";

// Turns the values a diff reports (domain/diff.ts FieldChange.before/after) into words, for "what changed" pages.

/** One location in one line: place, mechanism and who it applies to. */
export function describeLocation(loc: Location, vendor: Vendor, locale: Locale): string {
  return [
    locationLabel(loc, locale),
    mechanismLabel(loc, locale),
    appliesToLabels(loc.appliesTo, vendor, locale).join("; "),
  ].join(" · ");
}

export function describeEntity(e: Entity, locale: Locale): string {
  return `${e.name}, ${addressLabel(e, locale)}`;
}

/** Words for a field value; lists become several lines. Unknown shapes fall back to JSON rather than vanish. */
export function describeField(field: string, value: unknown, vendor: Vendor, locale: Locale): string[] {
  if (value === undefined || value === null) return [];
  switch (field) {
    case "entity":
      return [describeEntity(value as Entity, locale)];
    case "purpose":
      return [(value as Localized)[locale]];
    case "relationship":
      return [relationshipLabel(value as SubProcessor["relationship"], locale)];
    case "services":
      return (value as string[]).map((id) => vendor.services[id]?.[locale] ?? id);
    case "dataCategories":
      return (value as string[]).map((id) => vendor.dataCategories[id]?.[locale] ?? id);
    case "locations":
      return (value as Location[]).map((l) => describeLocation(l, vendor, locale));
    case "subprocessors":
      return (value as ChainEntry[]).map(
        (c) =>
          `${chainEntryLabel(c, locale)} · ${c.locations.map((l) => describeLocation(l, vendor, locale)).join("; ")}`,
      );
    case "contact": {
      const c = value as SubProcessor["contact"];
      return [c.email, c.url].filter((x): x is string => x !== undefined);
    }
    default:
      return [typeof value === "string" ? value : JSON.stringify(value)];
  }
}
