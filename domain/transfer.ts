import { addDays } from "./dates.ts";
import type { IsoDate } from "./schema/common.ts";
import type { Transfer, TransferMechanismId } from "./schema/transfer.ts";
import type { Region } from "./schema/vendor.ts";

/** A legal basis in force from `validFrom` up to and including `validUntil` (open-ended when absent). */
export interface Validity {
  validFrom: IsoDate;
  validUntil?: IsoDate;
  source: string;
}

/** The law a customer's data is exported under (vendor.yaml, `regions[].law`). */
export type TransferLaw = Region["law"];

export const LAW_NAMES: Readonly<Record<TransferLaw, string>> = {
  eu: "the GDPR (EU/EEA)",
  uk: "the UK GDPR",
  ch: "the Swiss FADP",
};

/**
 * Commission adequacy decisions by destination country. The United States is deliberately absent:
 * a US recipient is only covered when it is certified under the EU-US Data Privacy Framework
 * (`eu-us-dpf`), never by a country-wide decision.
 */
export const ADEQUACY: Readonly<Record<string, Validity>> = {
  AD: { validFrom: "2010-10-19", source: "Decision 2010/625/EU" },
  AR: { validFrom: "2003-06-30", source: "Decision 2003/490/EC" },
  CA: { validFrom: "2001-12-20", source: "Decision 2002/2/EC (commercial organisations under PIPEDA)" },
  CH: { validFrom: "2000-07-26", source: "Decision 2000/518/EC" },
  FO: { validFrom: "2010-03-05", source: "Decision 2010/146/EU" },
  // Adopted for four years (to 27 June 2025), extended to 27 December 2025, then renewed on 19 December 2025 for six
  // years: reliance after 27 December 2031 is refused until a further renewal is entered here.
  GB: {
    validFrom: "2021-06-28",
    validUntil: "2031-12-27",
    source:
      "Implementing Decision (EU) 2021/1772, renewed by the Commission on 19 December 2025 until 27 December 2031",
  },
  GG: { validFrom: "2003-11-21", source: "Decision 2003/821/EC" },
  IL: { validFrom: "2011-01-31", source: "Decision 2011/61/EU" },
  IM: { validFrom: "2004-04-28", source: "Decision 2004/411/EC" },
  JE: { validFrom: "2008-05-08", source: "Decision 2008/393/EC" },
  JP: { validFrom: "2019-01-23", source: "Implementing Decision (EU) 2019/419" },
  KR: { validFrom: "2021-12-17", source: "Implementing Decision (EU) 2022/254" },
  NZ: { validFrom: "2012-12-19", source: "Decision 2013/65/EU" },
  UY: { validFrom: "2012-08-21", source: "Decision 2012/484/EU" },
};

/** Mechanisms that are not country decisions, with the period in which they could be relied on. */
export const MECHANISM_VALIDITY: Readonly<Record<Exclude<TransferMechanismId, "adequacy">, Validity>> = {
  // CJEU C-311/18 (Schrems II) invalidated Decision 2016/1250 with immediate effect on 16 July 2020.
  "privacy-shield": {
    validFrom: "2016-08-01",
    validUntil: "2020-07-15",
    source: "Decision (EU) 2016/1250, invalidated by CJEU C-311/18 on 16 July 2020",
  },
  "eu-us-dpf": { validFrom: "2023-07-10", source: "EU-US DPF, Implementing Decision (EU) 2023/1795 of 10 July 2023" },
  "uk-us-dpf": {
    validFrom: "2023-10-12",
    source:
      "UK Extension to the EU-US DPF, Data Protection (Adequacy) (United States of America) Regulations 2023, in force 12 October 2023",
  },
  "swiss-us-dpf": {
    validFrom: "2024-09-15",
    source:
      "Swiss-US DPF, United States added to Annex 1 of the Swiss Data Protection Ordinance, in force 15 September 2024",
  },
  "scc-2021": { validFrom: "2021-06-27", source: "Implementing Decision (EU) 2021/914" },
  "uk-idta": { validFrom: "2022-03-21", source: "UK ICO International Data Transfer Agreement" },
  bcr: { validFrom: "2018-05-25", source: "GDPR Article 47" },
};

/** Mechanisms that carry only data exported under one law: each Data Privacy Framework part and the UK IDTA. */
export const MECHANISM_LAW: Readonly<Partial<Record<TransferMechanismId, TransferLaw>>> = {
  "eu-us-dpf": "eu",
  "uk-us-dpf": "uk",
  "swiss-us-dpf": "ch",
  "uk-idta": "uk",
};

const US_ONLY: ReadonlySet<TransferMechanismId> = new Set(["eu-us-dpf", "uk-us-dpf", "swiss-us-dpf", "privacy-shield"]);

/** Why a mechanism cannot be used for `country`; undefined when it is the right kind for that country. */
export function mechanismMismatch(country: string, transfer: Transfer): string | undefined {
  if (transfer.mechanism === "adequacy" && !ADEQUACY[country]) {
    return country === "US"
      ? "the United States has no country-wide adequacy decision; use eu-us-dpf for a certified recipient, or scc-2021"
      : `there is no Commission adequacy decision for ${country}`;
  }
  if (US_ONLY.has(transfer.mechanism) && country !== "US") {
    return `${transfer.mechanism} only covers recipients in the United States, not ${country}`;
  }
  if (transfer.mechanism === "uk-idta" && country === "GB") {
    return "the UK IDTA covers transfers out of the UK, not transfers to it";
  }
  return undefined;
}

export function mechanismValidity(country: string, transfer: Transfer): Validity | undefined {
  return transfer.mechanism === "adequacy" ? ADEQUACY[country] : MECHANISM_VALIDITY[transfer.mechanism];
}

/**
 * Whether the mechanism holds on every day a location is listed, from `from` up to (excluding) `until`. An open-ended
 * listing is judged up to `today`: a mechanism with an end date may be relied on until that date, never after it.
 */
export function periodProblem(
  validity: Validity,
  from: IsoDate,
  until: IsoDate | undefined,
  today: IsoDate,
): "not-yet-valid" | "expired" | undefined {
  if (from < validity.validFrom) return "not-yet-valid";
  if (validity.validUntil === undefined) return undefined;
  // The last day the location is listed is the day before `until`.
  const end = until ?? addDays(from > today ? from : today, 1);
  return end <= addDays(validity.validUntil, 1) ? undefined : "expired";
}

/**
 * SCC 2021/914 are modular; a sub-processor of a processor (and its own sub-processors) receives data processor to
 * processor, which is module three. Undefined when the module fits.
 */
export function sccModuleProblem(transfer: Transfer): string | undefined {
  if (transfer.mechanism !== "scc-2021" || transfer.sccModule === 3) return undefined;
  const modules: Record<number, string> = {
    1: "controller to controller",
    2: "controller to processor",
    4: "processor to controller",
  };
  const which = transfer.sccModule === undefined ? "no module" : `module ${transfer.sccModule}`;
  return `${which}${transfer.sccModule ? ` (${modules[transfer.sccModule]})` : ""} given; a sub-processor engaged by the processor receives data processor to processor, which is module 3 (Implementing Decision (EU) 2021/914, Annex, Section I, Clause 1; DPA 6.2)`;
}

/**
 * Mechanisms that only carry one law's data: the UK instruments only UK customers' data, each part of the Data Privacy
 * Framework only data exported under its own law. `laws` are the laws of every region the location serves.
 */
export function originProblem(
  transfer: Transfer,
  laws: ReadonlySet<TransferLaw>,
): { rule: "uk-transfer-instrument" | "mechanism-origin"; message: string } | undefined {
  const only = MECHANISM_LAW[transfer.mechanism];
  const others = [...laws].filter((l) => l !== only).sort();
  if (only && others.length > 0) {
    const served = others.map((l) => LAW_NAMES[l]).join(" and ");
    const source = MECHANISM_VALIDITY[transfer.mechanism as Exclude<TransferMechanismId, "adequacy">].source;
    return transfer.mechanism === "uk-idta"
      ? {
          rule: "uk-transfer-instrument",
          message: `the UK IDTA is a UK GDPR instrument (${source}) and only carries UK customers' data, but this location also serves customers whose data is exported under ${served}; give UK customers a location of their own or use scc-2021 with ukAddendum`,
        }
      : {
          rule: "mechanism-origin",
          message: `${transfer.mechanism} only covers data exported under ${LAW_NAMES[only]} (${source}), but this location also serves customers whose data is exported under ${served}; give those customers a location of their own with a mechanism for their law`,
        };
  }
  if (transfer.mechanism === "scc-2021" && transfer.ukAddendum && !laws.has("uk")) {
    return {
      rule: "uk-transfer-instrument",
      message:
        "the UK Addendum (ICO, in force 21 March 2022) only applies to UK customers' data, and this location serves no UK region; leave ukAddendum out",
    };
  }
  if (transfer.mechanism === "scc-2021" && !transfer.ukAddendum && laws.has("uk")) {
    return {
      rule: "uk-transfer-instrument",
      message:
        "this location serves UK customers, whose data leaves under the UK GDPR: the EU SCCs only cover such a transfer together with the UK Addendum (ICO, in force 21 March 2022); set ukAddendum: true",
    };
  }
  return undefined;
}
