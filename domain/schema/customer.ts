import { z } from "zod";
import { EmailAddress } from "../email.ts";
import { type IsoDate, isCalendarDate, type Locale } from "./common.ts";
import type { Cohort, Vendor } from "./vendor.ts";

// A customer is an organisation bound by the DPA: DPA 5.2 owes written notice to each customer, and DPA 5.5 says the
// notice carries the updated Annex C, which for a customer is the Annex C of its own region and contract cohort.
// Regions, cohorts and locales are those of content/vendor.yaml, so the schema is built from the vendor.

/**
 * The named rules a customer record can break. Every error of an upsert or an import carries one, so staff can fix a
 * spreadsheet without reading code (tests/unit/customer.test.ts).
 */
export const CUSTOMER_RULES = {
  required: "The field must be given and not be empty",
  "unknown-field": "Only the documented fields are accepted",
  "invalid-value": "The field does not have the expected form",
  "invalid-external-id": "An external id is 1–64 letters, digits and . _ : - and starts with a letter or digit",
  "invalid-text": "Names are at most 200 characters and hold no control characters (line breaks, tabs)",
  "invalid-date": "A date is a real calendar date written as YYYY-MM-DD",
  "unknown-region": "The region must be one of the regions in vendor.yaml",
  "unknown-cohort": "The cohort must be one of the cohorts in vendor.yaml",
  "cohort-contract-date": "A cohort named on a customer must accept its contract date",
  "no-cohort": "Some cohort in vendor.yaml must take contracts signed on the contract date",
  "unknown-locale": "The locale must be one of the locales in vendor.yaml",
  "invalid-email": "A contact address must be a usable email address",
  "duplicate-contact": "A contact address is listed once per customer",
} as const;
export type CustomerRule = keyof typeof CUSTOMER_RULES;

export type CustomerVendor = Pick<Vendor, "regions" | "cohorts" | "locales">;

const EXTERNAL_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: a name goes into email text and headers; CR/LF must not
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u;
const MAX_NAME = 200;

function rule(r: CustomerRule) {
  return { params: { rule: r } };
}

function oneOf(ids: readonly string[], what: string, r: CustomerRule) {
  return z.string().refine((v) => ids.includes(v), {
    message: `is not a ${what} in vendor.yaml (one of: ${ids.join(", ")})`,
    ...rule(r),
  });
}

const Name = z
  .string()
  .trim()
  .min(1, "is empty")
  .refine((v) => v.length <= MAX_NAME && !CONTROL.test(v), {
    message: `must be at most ${MAX_NAME} characters without line breaks or tabs`,
    ...rule("invalid-text"),
  });

const ContractDate = z.string().refine(isCalendarDate, {
  message: "is not a real calendar date written as YYYY-MM-DD",
  ...rule("invalid-date"),
});

/** Whether a cohort's contract-date rule (vendor.yaml) takes a contract signed on `contractDate`. */
export function cohortAccepts(cohort: Cohort, contractDate: IsoDate): boolean {
  if (cohort.contractedOnOrBefore !== undefined) return contractDate <= cohort.contractedOnOrBefore;
  if (cohort.contractedAfter !== undefined) return contractDate > cohort.contractedAfter;
  return false;
}

/**
 * The cohort a contract date puts a customer in: the cohort whose date rule takes it, among those not marked
 * `assignedOnly` (vendor.yaml keeps at most one such cohort per date, domain/schema/vendor.ts). E.g. a contract of
 * 2023-07-05 is `legacy` (on or before 5 July 2023), one of 2023-07-06 is `current`; `legacy-switch` is assigned only.
 */
export function cohortForContractDate(contractDate: IsoDate, cohorts: readonly Cohort[]): Cohort | undefined {
  return cohorts.find((c) => !c.assignedOnly && cohortAccepts(c, contractDate));
}

/**
 * The schema of one customer, for the regions, cohorts and locales of `vendor`. Addresses are normalised as the
 * subscribers' are (domain/email.ts); names are trimmed. Each issue carries `params.rule` (CUSTOMER_RULES).
 */
export function customerSchema(vendor: CustomerVendor) {
  const locales = vendor.locales as readonly string[];
  const LocaleField = oneOf(locales, "locale", "unknown-locale") as unknown as z.ZodType<Locale>;
  const Contact = z
    .object({
      email: EmailAddress.describe("Address the notice goes to; compared and stored lower-case"),
      name: Name.optional().describe("Person or function at the customer, e.g. Data Protection Officer"),
      locale: LocaleField.optional().describe("Language of this contact's notices; the customer's locale if absent"),
    })
    .strict()
    .describe("A notice contact: DPA 5.2's written notice to the customer goes to every one of them");
  return z
    .object({
      externalId: z
        .string()
        .regex(EXTERNAL_ID, { message: CUSTOMER_RULES["invalid-external-id"], ...rule("invalid-external-id") })
        .describe("The vendor's contract or CRM id of the customer; unique, and the key of every import"),
      name: Name.describe("Legal name of the customer organisation"),
      region: oneOf(
        vendor.regions.map((r) => r.id),
        "region",
        "unknown-region",
      ).describe("Customer region (vendor.yaml): decides which data centres of Annex C apply to it"),
      contractDate: ContractDate.describe("Date the customer's contract was signed (YYYY-MM-DD): decides its cohort"),
      cohort: oneOf(
        vendor.cohorts.map((c) => c.id),
        "cohort",
        "unknown-cohort",
      )
        .optional()
        .describe("Cohort named by staff; overrides the one the contract date gives, e.g. legacy-switch"),
      locale: LocaleField.describe("Language of the customer's notices, unless a contact has its own"),
      contacts: z
        .array(Contact)
        .min(1, "needs at least one notice contact")
        .superRefine((contacts, ctx) => {
          const seen = new Set<string>();
          contacts.forEach((c, i) => {
            if (seen.has(c.email)) {
              ctx.addIssue({
                code: "custom",
                path: [i, "email"],
                message: `${c.email} is listed twice for this customer`,
                ...rule("duplicate-contact"),
              });
            }
            seen.add(c.email);
          });
        })
        .describe("Who receives the customer's notices: one or more contacts"),
    })
    .strict()
    .superRefine(
      (c, ctx) => {
        // Runs whenever contractDate and cohort are themselves valid (`when`), even if another field is wrong: an
        // import lists every error at once, and each problem once.
        if (c.cohort !== undefined) {
          const cohort = vendor.cohorts.find((k) => k.id === c.cohort);
          if (cohort && !cohortAccepts(cohort, c.contractDate)) {
            ctx.addIssue({
              code: "custom",
              path: ["cohort"],
              message: `cohort ${cohort.id} takes contracts signed ${cohortRuleText(cohort)}; this one was signed on ${c.contractDate}`,
              ...rule("cohort-contract-date"),
            });
          }
        } else if (!cohortForContractDate(c.contractDate, vendor.cohorts) && vendor.cohorts.length > 0) {
          ctx.addIssue({
            code: "custom",
            path: ["contractDate"],
            message: `no cohort in vendor.yaml takes contracts signed on ${c.contractDate}; name a cohort`,
            ...rule("no-cohort"),
          });
        }
      },
      {
        when: (payload) =>
          typeof (payload.value as { contractDate?: unknown } | undefined)?.contractDate === "string" &&
          !payload.issues.some((i) => i.path?.[0] === "contractDate" || i.path?.[0] === "cohort"),
      },
    )
    .describe("An organisation bound by the DPA, with the contacts its notices go to");
}

export type Customer = z.output<ReturnType<typeof customerSchema>>;
export type CustomerContact = Customer["contacts"][number];

function cohortRuleText(c: Cohort): string {
  return c.contractedOnOrBefore !== undefined
    ? `on or before ${c.contractedOnOrBefore}`
    : `after ${c.contractedAfter ?? "(no date)"}`;
}

/**
 * The cohort a customer's Annex C is resolved for: the one staff named, otherwise the one its contract date gives.
 * Undefined only for a vendor without cohorts (every customer then sees every cohort's rows).
 */
export function customerCohort(
  customer: Pick<Customer, "contractDate" | "cohort">,
  cohorts: readonly Cohort[],
): string | undefined {
  return customer.cohort ?? cohortForContractDate(customer.contractDate, cohorts)?.id;
}

/** The rule of a zod issue raised by `customerSchema`, in the words of CUSTOMER_RULES. */
export function customerIssueRule(issue: z.core.$ZodIssue): CustomerRule {
  if (issue.code === "custom") {
    const r = (issue.params as { rule?: string } | undefined)?.rule;
    if (r !== undefined && r in CUSTOMER_RULES) return r as CustomerRule;
    return "invalid-value";
  }
  if (issue.code === "unrecognized_keys") return "unknown-field";
  if (issue.code === "invalid_type" && issue.input === undefined) return "required";
  if (issue.code === "too_small" && Number(issue.minimum) === 1) return "required";
  return "invalid-value";
}
