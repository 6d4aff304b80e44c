import { currentDpaVersion, type DpaVersionInfo } from "../../domain/content.ts";
import { addDays } from "../../domain/dates.ts";
import type { IsoDate } from "../../domain/schema/common.ts";

export type DpaStatus = "current" | "archived" | "future";

export interface DpaPeriod {
  info: DpaVersionInfo;
  status: DpaStatus;
  from: IsoDate;
  /** Last day in force; undefined while open-ended. */
  until: IsoDate | undefined;
}

/** Every DPA version with its period and status on `today`, newest first. A version runs until the next starts. */
export function dpaPeriods(versions: DpaVersionInfo[], today: IsoDate): DpaPeriod[] {
  const current = currentDpaVersion(versions, today);
  return versions
    .map((info, i) => {
      const next = versions[i + 1];
      const until = info.effectiveUntil ?? (next ? addDays(next.effectiveFrom, -1) : undefined);
      const status: DpaStatus =
        info.version === current?.version ? "current" : info.effectiveFrom > today ? "future" : "archived";
      return { info, status, from: info.effectiveFrom, until };
    })
    .reverse();
}
