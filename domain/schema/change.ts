import { z } from "zod";
import { IsoDate, Localized, Slug, unconfirmed } from "./common.ts";

/** What a `changed` entry changes; used in notices ("the location changed") and checked against the timeline. */
export const CHANGE_ASPECTS = [
  "name",
  "entity",
  "purpose",
  "services",
  "dataCategories",
  "locations",
  "transfer",
  "subprocessors",
] as const;
export type ChangeAspect = (typeof CHANGE_ASPECTS)[number];

export const Change = z
  .object({
    id: Slug.describe("Stable id; must equal the file name"),
    announced: IsoDate.describe(
      "Date the notice is given (DPA 5.2: at least the notice period before an addition takes effect)",
    ),
    effective: IsoDate.describe("Date the change takes effect"),
    kind: z.enum(["added", "removed", "changed"]),
    aspects: z.array(z.enum(CHANGE_ASPECTS)).min(1).optional().describe("For kind: changed, what changes"),
    subprocessors: z.array(Slug).min(1).describe("Ids of the sub-processors concerned"),
    summary: Localized.describe("One or two sentences for the change log and the notice"),
    dpaVersion: Slug.optional().describe("The DPA version this change was published with, if any"),
    // A change taken over from a DPA that gives no notice date still needs `announced` for the DPA 5.2 check; listing
    // it here shows it as "not stated in the DPA" instead of as a fact (README, Content model).
    unconfirmed: unconfirmed(["announced"]),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.effective < c.announced) {
      ctx.addIssue({ code: "custom", path: ["effective"], message: "cannot be before the announced date" });
    }
    if (c.kind === "changed" && !c.aspects) {
      ctx.addIssue({ code: "custom", path: ["aspects"], message: "a changed entry must say what changes (aspects)" });
    }
    if (c.kind !== "changed" && c.aspects) {
      ctx.addIssue({ code: "custom", path: ["aspects"], message: "aspects only apply to kind: changed" });
    }
  });
export type Change = z.infer<typeof Change>;
