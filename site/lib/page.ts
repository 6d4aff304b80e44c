import { formatDate } from "../../domain/labels.ts";
import { LOCALES, type Locale } from "../../domain/schema/common.ts";
import { type Strings, t } from "../../i18n/index.ts";
import { loadContent, type SiteContent } from "./content.ts";

// What every page under site/pages/[locale]/ starts with, written once.

/**
 * The `getStaticPaths` of a page under [locale]/: one page per language, times the pages `each` lists for the
 * content (none: one page per language).
 */
export async function localePaths<P extends Record<string, string>>(
  each?: (content: SiteContent) => P[],
): Promise<{ params: P & { locale: Locale } }[]> {
  const extra = each ? each(await loadContent()) : [{} as P];
  return LOCALES.flatMap((locale) => extra.map((params) => ({ params: { ...params, locale } })));
}

export interface Page {
  locale: Locale;
  /** The strings of the page's language. */
  s: Strings;
  content: SiteContent;
  /** A date written out in the page's language. */
  fd: (date: string) => string;
}

/** The page's language (from its [locale] parameter), its strings and the content. */
export async function pagePreamble(params: { locale?: string | undefined }): Promise<Page> {
  const locale = LOCALES.find((l) => l === params.locale);
  if (!locale) throw new Error(`a page under [locale]/ was built for an unknown locale: ${params.locale}`);
  return { locale, s: t(locale), content: await loadContent(), fd: (date) => formatDate(date, locale) };
}
