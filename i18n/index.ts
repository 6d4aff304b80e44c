import type { Locale } from "../domain/schema/common.ts";
import { da } from "./da.ts";
import { en } from "./en.ts";
import type { Strings } from "./strings.ts";

export type { Strings } from "./strings.ts";
export { cohortName, regionName, vendorGenitive } from "./vendor.ts";

const STRINGS: Record<Locale, Strings> = { da, en };

/** The strings of one language. */
export function t(locale: Locale): Strings {
  return STRINGS[locale];
}

export function otherLocale(locale: Locale): Locale {
  return locale === "da" ? "en" : "da";
}

/** Absolute path of a site page in a locale, always with the trailing slash the site is built with. */
export function href(locale: Locale, ...segments: string[]): string {
  const rest = segments.filter((s) => s !== "").join("/");
  return rest ? `/${locale}/${rest}/` : `/${locale}/`;
}
