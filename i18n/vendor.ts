import type { Locale } from "../domain/schema/common.ts";
import type { Vendor } from "../domain/schema/vendor.ts";

/**
 * "MOCH A/S's" in English; in Danish a name ending in s, x or z takes a bare apostrophe ("MOCH A/S'"), any other
 * name an s ("Acmes") (Retskrivningsordbogen §11).
 */
export function vendorGenitive(name: string, locale: Locale): string {
  if (locale === "en") return `${name}'s`;
  return /[sxz]$/i.test(name) ? `${name}'` : `${name}s`;
}

/** A customer region's name in a language; the id itself when the vendor file does not know it. */
export function regionName(vendor: Pick<Vendor, "regions">, id: string, locale: Locale): string {
  return vendor.regions.find((r) => r.id === id)?.name[locale] ?? id;
}

/** A contract cohort's name in a language (vendor.yaml), e.g. "Customers contracted on or before 5 July 2023". */
export function cohortName(vendor: Pick<Vendor, "cohorts">, id: string, locale: Locale): string {
  return vendor.cohorts.find((c) => c.id === id)?.name[locale] ?? id;
}
