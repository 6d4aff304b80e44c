import { z } from "zod";
import { IsoDate, Locale, Slug } from "./common.ts";

/** Frontmatter of `content/dpa/<version>/<locale>.mdx`; the body is the agreement text in that language. */
export const DpaVersion = z
  .object({
    version: Slug.describe("Version id; must equal the folder name, e.g. 2024-07-01"),
    locale: Locale.describe("Must equal the file name (da or en)"),
    title: z.string().min(1),
    effectiveFrom: IsoDate,
    effectiveUntil: IsoDate.optional().describe("Last day in force; leave out to run until the next version starts"),
    summary: z.string().min(1).describe("A few sentences on what this version changed"),
  })
  .strict();
export type DpaVersion = z.infer<typeof DpaVersion>;
