import type { VersionAudience } from "./annex.ts";
import type { IsoDate, Locale } from "./schema/common.ts";

/**
 * Where each machine-readable file lives (README "Machine-readable data"). One place, so the site, the catalogue and
 * the notice email agree; a module of its own so the worker links them without bundling the patch code.
 */
export const annexCPaths = {
  json: (date: IsoDate) => `/annex-c/${date}.json`,
  csv: (date: IsoDate) => `/annex-c/${date}.csv`,
  audience: (date: IsoDate, a: VersionAudience) => `/annex-c/${date}/${a.region}/${a.cohort}.json`,
  page: (locale: Locale, date: IsoDate) => `/${locale}/annex-c/${date}/`,
  change: (locale: Locale, id: string) => `/${locale}/changes/${id}/`,
  catalogue: "/annex-c/index.json",
  published: "/annex-c.json",
  changes: "/changes.json",
  calendar: "/calendar.ics",
  regionCalendar: (region: string) => `/calendar/${region}.ics`,
} as const;
