import { countryName, isInEEA } from "./countries.ts";
import type { Change, ChangeAspect } from "./schema/change.ts";
import type { IsoDate, Locale, Localized } from "./schema/common.ts";
import type { Applicability, ChainEntry, Entity, Location, SubProcessor } from "./schema/subprocessor.ts";
import type { Transfer, TransferMechanismId } from "./schema/transfer.ts";
import type { Cohort, Region } from "./schema/vendor.ts";

// Plain-word labels for the facts the domain computes, in both languages. Pure: used by the site and by notices,
// so a customer reads the same words on the page and in the email.

const INTL_LOCALE: Record<Locale, string> = { da: "da-DK", en: "en-GB" };

// One formatter per locale and kind, made once: making one costs far more than formatting with it, and the build
// formats tens of thousands of dates and lists (2 s of the build benchmark).
const DATE_FORMAT: Record<Locale, Intl.DateTimeFormat> = {
  da: new Intl.DateTimeFormat(INTL_LOCALE.da, { dateStyle: "long", timeZone: "UTC" }),
  en: new Intl.DateTimeFormat(INTL_LOCALE.en, { dateStyle: "long", timeZone: "UTC" }),
};
const LIST_FORMAT = {
  da: {
    conjunction: new Intl.ListFormat(INTL_LOCALE.da, { type: "conjunction" }),
    disjunction: new Intl.ListFormat(INTL_LOCALE.da, { type: "disjunction" }),
  },
  en: {
    conjunction: new Intl.ListFormat(INTL_LOCALE.en, { type: "conjunction" }),
    disjunction: new Intl.ListFormat(INTL_LOCALE.en, { type: "disjunction" }),
  },
} satisfies Record<Locale, Record<"conjunction" | "disjunction", Intl.ListFormat>>;

/** "1. juli 2024" / "1 July 2024". Dates are calendar dates, so they are formatted in UTC and never shift. */
export function formatDate(date: IsoDate, locale: Locale): string {
  return DATE_FORMAT[locale].format(new Date(`${date}T00:00:00Z`));
}

const MECHANISMS: Record<TransferMechanismId, Localized> = {
  adequacy: { da: "EU-tilstrækkelighedsafgørelse", en: "EU adequacy decision" },
  "eu-us-dpf": { da: "EU-US Data Privacy Framework", en: "EU-US Data Privacy Framework" },
  "uk-us-dpf": {
    da: "Britisk udvidelse af EU-US Data Privacy Framework (UK Extension)",
    en: "UK Extension to the EU-US Data Privacy Framework",
  },
  "swiss-us-dpf": { da: "Swiss-US Data Privacy Framework", en: "Swiss-US Data Privacy Framework" },
  "scc-2021": { da: "EU's standardkontraktbestemmelser", en: "Standard Contractual Clauses" },
  "uk-idta": {
    da: "Britisk aftale om international dataoverførsel (IDTA)",
    en: "UK International Data Transfer Agreement (IDTA)",
  },
  bcr: { da: "Bindende virksomhedsregler (BCR)", en: "Binding Corporate Rules (BCR)" },
  "privacy-shield": { da: "EU-US Privacy Shield (ugyldig)", en: "EU-US Privacy Shield (invalid)" },
};

/**
 * The legal basis of a transfer in plain words, e.g. "Standard Contractual Clauses (module 3)". A location inside
 * the EEA needs none and says so; one outside without a mechanism says that too rather than staying blank.
 */
export function mechanismLabel(
  location: Pick<Location, "country" | "transfer" | "unconfirmed">,
  locale: Locale,
): string {
  const t = location.transfer;
  if (!t) {
    if (isInEEA(location.country)) {
      return locale === "da" ? "Inden for EØS – ingen overførsel" : "Within the EEA – no transfer";
    }
    return locale === "da" ? "Intet overførselsgrundlag angivet" : "No transfer mechanism given";
  }
  return withProvenance(transferLabel(t, locale), location.unconfirmed?.includes("transfer") ?? false, locale);
}

export function transferLabel(t: Transfer, locale: Locale): string {
  let label = MECHANISMS[t.mechanism][locale];
  if (t.mechanism === "scc-2021" && t.sccModule !== undefined) {
    label += locale === "da" ? ` (modul ${t.sccModule})` : ` (module ${t.sccModule})`;
  }
  if (t.ukAddendum) label += locale === "da" ? " med britisk tillæg (UK Addendum)" : " with the UK Addendum";
  if (t.supplementary)
    label += locale === "da" ? ", med supplerende foranstaltninger" : ", with supplementary measures";
  return label;
}

export function relationshipLabel(relationship: SubProcessor["relationship"], locale: Locale): string {
  if (relationship === "affiliate") return locale === "da" ? "Koncernselskab" : "Affiliate";
  return locale === "da" ? "Tredjepart" : "Third party";
}

export function changeKindLabel(kind: "added" | "removed" | "changed", locale: Locale): string {
  const labels = {
    added: { da: "Ny underdatabehandler", en: "New sub-processor" },
    removed: { da: "Underdatabehandler fjernet", en: "Sub-processor removed" },
    changed: { da: "Ændring", en: "Change" },
  } as const;
  return labels[kind][locale];
}

const ASPECTS: Record<ChangeAspect, Localized> = {
  name: { da: "navn", en: "name" },
  entity: { da: "juridisk enhed", en: "legal entity" },
  purpose: { da: "formål", en: "purpose" },
  services: { da: "tjenester", en: "services" },
  dataCategories: { da: "kategorier af personoplysninger", en: "categories of personal data" },
  locations: { da: "behandlingssteder", en: "processing locations" },
  transfer: { da: "overførselsgrundlag", en: "transfer mechanism" },
  subprocessors: { da: "egne underdatabehandlere", en: "own sub-processors" },
};

/** Shown next to every field flagged `unconfirmed` in the content: the DPA is the source, and it does not say this. */
export const NOT_STATED: Localized = { da: "ikke oplyst i databehandleraftalen", en: "not stated in the DPA" };

export function notStated(locale: Locale): string {
  return NOT_STATED[locale];
}

/**
 * When a change was announced, flagged when the DPA gives no notice date: the date is then only the one the DPA 5.2
 * check counts from, and the objection deadline counted from it is flagged with it.
 */
export function announcedLabel(change: Pick<Change, "announced" | "unconfirmed">, locale: Locale): string {
  return withProvenance(
    formatDate(change.announced, locale),
    change.unconfirmed?.includes("announced") ?? false,
    locale,
  );
}

function upperFirst(s: string): string {
  return s.charAt(0).toLocaleUpperCase() + s.slice(1);
}

/** "Toldbodgade 51C, 1253 København, Danmark"; "not stated in the DPA" when none is given, or flagged when unconfirmed. */
export function addressLabel(entity: Pick<Entity, "address" | "unconfirmed">, locale: Locale): string {
  const a = entity.address;
  if (!a) return upperFirst(NOT_STATED[locale]);
  const text = [a.street, [a.postalCode, a.city].filter(Boolean).join(" "), countryName(a.country, locale)].join(", ");
  return withProvenance(text, entity.unconfirmed?.includes("address") ?? false, locale);
}

/** A contact point in one line: email and/or web address, flagged when unconfirmed. */
export function contactLabel(contact: SubProcessor["contact"], unconfirmed: boolean, locale: Locale): string {
  const text = [contact.email, contact.url].filter((x): x is string => x !== undefined).join(", ");
  return withProvenance(text, unconfirmed, locale);
}

/**
 * A processor down the chain in one line, for the CSV and the notice: "Name (entity, address; contact): purpose".
 * Its locations are given separately (locationLabel, mechanismLabel).
 */
export function chainEntryLabel(entry: ChainEntry, locale: Locale): string {
  const contact = contactLabel(entry.contact, entry.unconfirmed?.includes("contact") ?? false, locale);
  return `${entry.name} (${entry.entity.name}, ${addressLabel(entry.entity, locale)}; ${contact}): ${entry.purpose[locale]}`;
}

/** "Dublin, Irland" plus "(ikke oplyst i databehandleraftalen)" when the value is flagged unconfirmed. */
export function withProvenance(text: string, unconfirmed: boolean, locale: Locale): string {
  return unconfirmed ? `${text} (${NOT_STATED[locale]})` : text;
}

export function aspectLabel(aspect: ChangeAspect, locale: Locale): string {
  return ASPECTS[aspect][locale];
}

/** Field names of an Annex C entry, as shown in "what changed" lists. */
const FIELDS: Record<string, Localized> = {
  ...ASPECTS,
  relationship: { da: "tilknytning", en: "relationship" },
  website: { da: "websted", en: "website" },
  contact: { da: "kontaktpunkt", en: "contact point" },
};

export function fieldLabel(field: string, locale: Locale): string {
  return FIELDS[field]?.[locale] ?? field;
}

/** "Dublin, Irland" / "Ireland" when no city is given. */
export function locationLabel(location: Pick<Location, "country" | "city" | "unconfirmed">, locale: Locale): string {
  const country = countryName(location.country, locale);
  if (!location.city) return country;
  return `${withProvenance(location.city, location.unconfirmed?.includes("city") ?? false, locale)}, ${country}`;
}

function listJoin(items: string[], locale: Locale, kind: "conjunction" | "disjunction"): string {
  return LIST_FORMAT[locale][kind].format(items);
}

/** The region and cohort names that labels need from vendor.yaml. */
export interface AudienceNames {
  regions: readonly Pick<Region, "id" | "name">[];
  cohorts: readonly Pick<Cohort, "id" | "name">[];
}

/**
 * Who a location applies to, one phrase per rule, e.g. ["United Kingdom – customers contracted after 5 July 2023"].
 * `undefined` rules mean every customer. Region and cohort names come from vendor.yaml.
 */
export function appliesToLabels(rules: Applicability[] | undefined, vendor: AudienceNames, locale: Locale): string[] {
  const all = locale === "da" ? "Alle kunder" : "All customers";
  if (!rules) return [all];
  return rules.map((rule) => {
    const regions = rule.regions?.map((id) => vendor.regions.find((r) => r.id === id)?.name[locale] ?? id);
    const cohorts = rule.cohorts?.map((id, i) => {
      const name = vendor.cohorts.find((c) => c.id === id)?.name[locale] ?? id;
      return i === 0 ? name : lowerFirst(name);
    });
    const regionText = regions ? listJoin(regions, locale, "disjunction") : undefined;
    const cohortText = cohorts ? listJoin(cohorts, locale, "disjunction") : undefined;
    if (regionText && cohortText) return `${regionText}: ${lowerFirst(cohortText)}`;
    if (regionText) return locale === "da" ? `Kunder i ${regionText}` : `Customers in ${regionText}`;
    return cohortText ?? all;
  });
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLocaleLowerCase() + s.slice(1);
}
