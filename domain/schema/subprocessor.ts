import { z } from "zod";
import { Contact, CountryCode, HttpsUrl, IsoDate, Localized, PostalAddress, Slug, unconfirmed } from "./common.ts";
import { Transfer } from "./transfer.ts";

/** Who a location applies to. Every listed condition must hold; an absent condition means "all". */
export const Applicability = z
  .object({
    regions: z.array(Slug).min(1).optional().describe("Customer regions (ids from vendor.yaml)"),
    cohorts: z.array(Slug).min(1).optional().describe("Customer cohorts (ids from vendor.yaml)"),
  })
  .strict();
export type Applicability = z.infer<typeof Applicability>;

export const Location = z
  .object({
    country: CountryCode,
    city: z.string().min(1).optional().describe("City or data-centre area, e.g. Dublin"),
    note: Localized.optional().describe("What this location is used for when it differs from the general purpose"),
    appliesTo: z
      .array(Applicability)
      .min(1)
      .optional()
      .describe("Which customers this location serves; any one rule matching is enough. Omit for all customers"),
    transfer: Transfer.optional().describe("Required for every country outside the EEA"),
    unconfirmed: unconfirmed(["city", "transfer"]),
  })
  .strict()
  .superRefine((l, ctx) => presentKeys(l, ctx))
  .describe("A place where personal data is processed");
export type Location = z.infer<typeof Location>;

export const Entity = z
  .object({
    name: z.string().min(1).describe("Legal name of the contracting entity"),
    address: PostalAddress.optional().describe(
      "Registered address; leave out when it is not known (shown as not stated)",
    ),
    registration: z.string().min(1).optional().describe("Company registration number, if known"),
    unconfirmed: unconfirmed(["name", "address", "registration"]),
  })
  .strict()
  .superRefine((e, ctx) => presentKeys(e, ctx));
export type Entity = z.infer<typeof Entity>;

/**
 * A processor further down the chain: a sub-processor's own sub-processor (EDPB Opinion 22/2024: the controller should
 * have the name, address and contact of every processor in the chain at all times). Its locations follow the same
 * transfer rules as the sub-processor's own.
 */
export const ChainEntry = z
  .object({
    name: z.string().min(1).describe("Name customers know the service by"),
    relationship: z
      .enum(["affiliate", "third-party"])
      .default("third-party")
      .describe("Relation to the sub-processor that engages it: affiliate (same group) or third-party"),
    entity: Entity,
    contact: Contact,
    purpose: Localized,
    locations: z.array(Location).min(1),
    unconfirmed: unconfirmed(["contact"]),
  })
  .strict()
  .describe("A sub-processor of the sub-processor");
export type ChainEntry = z.infer<typeof ChainEntry>;

/** Everything about a sub-processor that can change over time and therefore needs a change entry. */
export const SubProcessorState = z
  .object({
    name: z.string().min(1).describe("Name customers know the service by"),
    entity: Entity,
    purpose: Localized.describe("What the sub-processor does with personal data"),
    services: z.array(Slug).min(1).describe("Product services it supports (ids, e.g. platform-hosting)"),
    dataCategories: z.array(Slug).min(1).describe("Categories of personal data it processes (ids)"),
    locations: z.array(Location).min(1),
    subprocessors: z
      .array(ChainEntry)
      .min(1)
      .optional()
      .describe("Its own sub-processors; adding one is announced like a new sub-processor (DPA 5.2)"),
  })
  .strict();
export type SubProcessorState = z.infer<typeof SubProcessorState>;

/**
 * One step in a sub-processor's history. The first step lists every field; a later step lists only
 * what changes from that date (fields are replaced whole, not merged), or `removed: true`.
 */
export const TimelineStep = SubProcessorState.partial()
  .extend({
    from: IsoDate.describe("Date this step takes effect; must match a change entry's effective date"),
    removed: z.literal(true).optional().describe("The sub-processor is no longer used from this date"),
  })
  .strict()
  .superRefine((step, ctx) => {
    if (step.removed && Object.keys(step).some((k) => k !== "from" && k !== "removed")) {
      ctx.addIssue({ code: "custom", path: ["removed"], message: "a removal step gives only from and removed" });
    }
  });
export type TimelineStep = z.infer<typeof TimelineStep>;

export const SubProcessor = z
  .object({
    id: Slug.describe("Stable id; must equal the file name"),
    relationship: z.enum(["affiliate", "third-party"]).describe("affiliate (same corporate group) or third-party"),
    website: HttpsUrl,
    contact: Contact,
    subprocessorList: z
      .object({
        url: HttpsUrl.describe("Where the sub-processor publishes its own list of sub-processors"),
        checked: IsoDate.describe("When staff last read that list"),
      })
      .strict()
      .optional()
      .describe("Instead of (or besides) listing its sub-processors here: a link to its own published list"),
    unconfirmed: unconfirmed(["website", "contact"]),
    timeline: z.array(TimelineStep).min(1).describe("History, oldest first"),
  })
  .strict()
  .superRefine((sp, ctx) => {
    presentKeys(sp, ctx);
    const first = sp.timeline[0];
    if (first && (first.removed || !SubProcessorState.safeParse(stripFrom(first)).success)) {
      ctx.addIssue({
        code: "custom",
        path: ["timeline", 0],
        message:
          "the first timeline step must give every field: name, entity, purpose, services, dataCategories, locations",
      });
    }
    for (let i = 1; i < sp.timeline.length; i++) {
      const prev = sp.timeline[i - 1];
      const step = sp.timeline[i];
      if (prev && step && step.from <= prev.from) {
        ctx.addIssue({
          code: "custom",
          path: ["timeline", i, "from"],
          message: "timeline steps must be in date order, one per date",
        });
      }
    }
  });
export type SubProcessor = z.infer<typeof SubProcessor>;

/** An `unconfirmed` key must name a field the object has: flagging an absent field says nothing. */
function presentKeys(value: { unconfirmed?: readonly string[] | undefined }, ctx: z.RefinementCtx): void {
  value.unconfirmed?.forEach((key, i) => {
    if ((value as Record<string, unknown>)[key] === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["unconfirmed", i],
        message: `"${key}" is not given here; leave it out of unconfirmed`,
      });
    }
  });
}

function stripFrom(step: TimelineStep): Record<string, unknown> {
  const { from: _from, ...rest } = step as Record<string, unknown>;
  return rest;
}
