import { z } from "zod";

/**
 * How a transfer to a country outside the EEA is made lawful (GDPR Chapter V).
 * `privacy-shield` is accepted by the schema only so the validator can reject it by name with the
 * reason (CJEU C-311/18 "Schrems II", 16 July 2020) instead of an opaque "invalid option" error.
 */
export const TRANSFER_MECHANISMS = [
  "adequacy",
  "eu-us-dpf",
  "uk-us-dpf",
  "swiss-us-dpf",
  "scc-2021",
  "uk-idta",
  "bcr",
  "privacy-shield",
] as const;
export type TransferMechanismId = (typeof TRANSFER_MECHANISMS)[number];

export const Transfer = z
  .object({
    mechanism: z
      .enum(TRANSFER_MECHANISMS)
      .describe(
        "adequacy (Commission adequacy decision for the country), eu-us-dpf (EU-US Data Privacy Framework), uk-us-dpf (its UK Extension), swiss-us-dpf (Swiss-US Data Privacy Framework), scc-2021 (Standard Contractual Clauses, Decision (EU) 2021/914), uk-idta (UK International Data Transfer Agreement), bcr (Binding Corporate Rules)",
      ),
    sccModule: z
      .union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)])
      .optional()
      .describe("SCC module: 3 = processor to processor, the only one that fits a sub-processor"),
    ukAddendum: z.boolean().optional().describe("The UK Addendum to the SCCs also applies (UK GDPR transfers)"),
    supplementary: z
      .boolean()
      .optional()
      .describe("Supplementary measures (EDPB Recommendations 01/2020) are in place"),
    reference: z
      .string()
      .min(1)
      .optional()
      .describe("Where the mechanism is documented, e.g. a DPA clause or certification"),
  })
  .strict()
  .superRefine((t, ctx) => {
    if (t.mechanism === "scc-2021" && t.sccModule === undefined) {
      ctx.addIssue({ code: "custom", path: ["sccModule"], message: "scc-2021 needs the SCC module (1, 2, 3 or 4)" });
    }
    if (t.mechanism !== "scc-2021" && t.sccModule !== undefined) {
      ctx.addIssue({ code: "custom", path: ["sccModule"], message: "sccModule only applies to scc-2021" });
    }
  })
  .describe("Transfer mechanism for a location outside the EEA");
export type Transfer = z.infer<typeof Transfer>;
