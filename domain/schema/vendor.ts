import { z } from "zod";
import { addDays } from "../dates.ts";
import { CountryCode, Email, HttpsUrl, IsoDate, Locale, Localized, PostalAddress, Slug } from "./common.ts";

export const Region = z
  .object({
    id: Slug.describe("Region id used in URLs and subscriptions, e.g. uk"),
    name: Localized,
    description: Localized.optional(),
  })
  .strict()
  .describe("A customer region whose data-centre defaults differ (e.g. UK customers use UK data centres)");
export type Region = z.infer<typeof Region>;

export const Cohort = z
  .object({
    id: Slug,
    name: Localized,
    contractedOnOrBefore: IsoDate.optional().describe("Customers whose contract was signed on or before this date"),
    contractedAfter: IsoDate.optional().describe("Customers whose contract was signed after this date"),
    assignedOnly: z
      .literal(true)
      .optional()
      .describe(
        "Customers join this cohort only when staff name it on the customer, never by contract date (a subset of another cohort with the same dates)",
      ),
  })
  .strict()
  .refine((c) => (c.contractedOnOrBefore === undefined) !== (c.contractedAfter === undefined), {
    message: "give exactly one of contractedOnOrBefore or contractedAfter",
  })
  .describe("A group of customers defined by contract date, e.g. those contracted on or before 5 July 2023");
export type Cohort = z.infer<typeof Cohort>;

export const WorkingDayCalendar = z
  .object({
    country: z.literal("DK").describe("Public-holiday calendar the objection window is counted in"),
    extraClosedDays: z
      .array(z.string().regex(/^\d{2}-\d{2}$/, "must be MM-DD, e.g. 12-24"))
      .default([])
      .describe(
        "Days that are not public holidays but on which most Danish businesses close (MM-DD); skipped to be on the safe side",
      ),
  })
  .strict();
export type WorkingDayCalendar = z.infer<typeof WorkingDayCalendar>;

export const Vendor = z
  .object({
    name: z.string().min(1).describe("Trading name shown on the site"),
    legalEntity: z.string().min(1).describe("Legal name of the processor"),
    group: z.string().min(1).optional().describe("Corporate group the processor belongs to"),
    registration: z
      .object({ label: z.string().min(1), number: z.string().min(1), country: CountryCode })
      .strict()
      .describe("Company registration, e.g. CVR 25397096"),
    address: PostalAddress,
    website: HttpsUrl.optional(),
    privacyContact: Email.describe("Where customers send questions and objections"),
    noticePeriodDays: z
      .number()
      .int()
      .min(1)
      .describe("DPA 5.2: days of written notice before a new sub-processor starts"),
    objectionWorkingDays: z
      .number()
      .int()
      .min(1)
      .describe("DPA 5.3: working days a customer has to object after receiving a notice"),
    workingDayCalendar: WorkingDayCalendar,
    closingTime: z
      .string()
      .regex(/^(?:[01]\d|2[0-3]):[0-5]\d$/, "must be a time written as HH:MM, e.g. 16:00")
      .default("16:00")
      .describe(
        "DPA 5.3: a notice delivered at or after this time (Copenhagen) counts as received on the next working day",
      ),
    locales: z.array(Locale).min(1),
    defaultLocale: Locale,
    regions: z.array(Region).min(1),
    cohorts: z.array(Cohort).default([]),
    services: z
      .record(Slug, Localized)
      .describe("Product services sub-processors support, by id, with their name in each locale"),
    dataCategories: z
      .record(Slug, Localized)
      .describe("Categories of personal data, by id, with their name in each locale"),
    tagline: Localized.optional(),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (!v.locales.includes(v.defaultLocale)) {
      ctx.addIssue({ code: "custom", path: ["defaultLocale"], message: "must be one of locales" });
    }
    for (const [key, list] of [
      ["regions", v.regions],
      ["cohorts", v.cohorts],
    ] as const) {
      const seen = new Set<string>();
      list.forEach((item, i) => {
        if (seen.has(item.id))
          ctx.addIssue({ code: "custom", path: [key, i, "id"], message: `duplicate id "${item.id}"` });
        seen.add(item.id);
      });
    }
    // A customer's cohort follows from its contract date (domain/schema/customer.ts): two cohorts that could both
    // claim the same date would make that answer depend on the order of this file.
    const derived = v.cohorts.map((c, i) => ({ c, i })).filter(({ c }) => !c.assignedOnly);
    for (const [n, { c: b, i }] of derived.entries()) {
      for (const { c: a } of derived.slice(0, n)) {
        const shared = sharedContractDate(a, b);
        if (shared === undefined) continue;
        ctx.addIssue({
          code: "custom",
          path: ["cohorts", i],
          message: `cohorts "${a.id}" and "${b.id}" both take contracts signed on ${shared}; give one of them assignedOnly: true`,
        });
      }
    }
  });
export type Vendor = z.infer<typeof Vendor>;

/** A contract date both cohorts' date rules accept, if there is one. */
function sharedContractDate(a: Cohort, b: Cohort): IsoDate | undefined {
  if (a.contractedOnOrBefore !== undefined && b.contractedOnOrBefore !== undefined) {
    return [a.contractedOnOrBefore, b.contractedOnOrBefore].sort()[0];
  }
  if (a.contractedAfter !== undefined && b.contractedAfter !== undefined) {
    return addDays([a.contractedAfter, b.contractedAfter].sort()[1] as IsoDate, 1);
  }
  const before = a.contractedOnOrBefore ?? b.contractedOnOrBefore;
  const after = a.contractedAfter ?? b.contractedAfter;
  return before !== undefined && after !== undefined && after < before ? before : undefined;
}
