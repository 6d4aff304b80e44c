import countries from "i18n-iso-countries";
import da from "i18n-iso-countries/langs/da.json" with { type: "json" };
import en from "i18n-iso-countries/langs/en.json" with { type: "json" };
import type { Locale } from "./schema/common.ts";

countries.registerLocale(da);
countries.registerLocale(en);

export function isKnownCountry(code: string): boolean {
  return countries.isValid(code) && code.length === 2;
}

export function countryName(code: string, locale: Locale): string {
  return countries.getName(code, locale, { select: "official" }) ?? code;
}

/**
 * The European Economic Area: the 27 EU member states plus Iceland, Liechtenstein and Norway.
 * GDPR Chapter V applies to any transfer to a country outside this list.
 */
export const EEA = new Set([
  "AT",
  "BE",
  "BG",
  "HR",
  "CY",
  "CZ",
  "DK",
  "EE",
  "FI",
  "FR",
  "DE",
  "GR",
  "HU",
  "IE",
  "IT",
  "LV",
  "LT",
  "LU",
  "MT",
  "NL",
  "PL",
  "PT",
  "RO",
  "SK",
  "SI",
  "ES",
  "SE",
  "IS",
  "LI",
  "NO",
]);

export function isInEEA(code: string): boolean {
  return EEA.has(code);
}
