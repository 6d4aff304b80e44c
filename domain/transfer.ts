import { addDays } from "./dates.ts";
import type { IsoDate } from "./schema/common.ts";
import type { Transfer, TransferMechanismId } from "./schema/transfer.ts";

/** A legal basis in force from `validFrom` up to and including `validUntil` (open-ended when absent). */
export interface Validity {
  validFrom: IsoDate;
  validUntil?: IsoDate;
  source: string;
}

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
  GB: { validFrom: "2021-06-28", source: "Implementing Decision (EU) 2021/1772 and its renewal" },
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
  "eu-us-dpf": { validFrom: "2023-07-10", source: "Implementing Decision (EU) 2023/1795" },
  "scc-2021": { validFrom: "2021-06-27", source: "Implementing Decision (EU) 2021/914" },
  "uk-idta": { validFrom: "2022-03-21", source: "UK ICO International Data Transfer Agreement" },
  bcr: { validFrom: "2018-05-25", source: "GDPR Article 47" },
};

/** Why a mechanism cannot be used for `country`; undefined when it is the right kind for that country. */
export function mechanismMismatch(country: string, transfer: Transfer): string | undefined {
  if (transfer.mechanism === "adequacy" && !ADEQUACY[country]) {
    return country === "US"
      ? "the United States has no country-wide adequacy decision; use eu-us-dpf for a certified recipient, or scc-2021"
      : `there is no Commission adequacy decision for ${country}`;
  }
  if ((transfer.mechanism === "eu-us-dpf" || transfer.mechanism === "privacy-shield") && country !== "US") {
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

/** True when the mechanism can be relied on for every day from `from` up to (excluding) `until`. */
export function coversPeriod(validity: Validity, from: IsoDate, until?: IsoDate): boolean {
  if (from < validity.validFrom) return false;
  if (validity.validUntil === undefined) return true;
  // The last day the location is listed is the day before `until`; open-ended listings outlive any end date.
  return until !== undefined && until <= addDays(validity.validUntil, 1);
}
