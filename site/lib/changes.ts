import { stateOn } from "../../domain/annex.ts";
import { addWorkingDays } from "../../domain/calendar.ts";
import type { Content } from "../../domain/content.ts";
import { addDays } from "../../domain/dates.ts";
import type { Change } from "../../domain/schema/change.ts";
import type { IsoDate } from "../../domain/schema/common.ts";

/** Keyed by the vendor object, whose working days and calendar the count uses (a rebuilt content gets its own). */
const deadlines = new WeakMap<object, Map<IsoDate, IsoDate>>();

/**
 * DPA 5.3: the last day to object, for a notice received on its announced date. The real deadline runs from each
 * customer's own receipt (the email says it); the site states which receipt date this one assumes.
 */
export function objectionDeadlineFor(change: Change, vendor: Content["vendor"]): IsoDate {
  // Asked by both language pages of every change and by the calendars: counted once per announcement date.
  let byDate = deadlines.get(vendor);
  if (!byDate) {
    byDate = new Map();
    deadlines.set(vendor, byDate);
  }
  let deadline = byDate.get(change.announced);
  if (deadline === undefined) {
    deadline = addWorkingDays(change.announced, vendor.objectionWorkingDays, vendor.workingDayCalendar);
    byDate.set(change.announced, deadline);
  }
  return deadline;
}

/** Change log order: newest effective date first, then newest announcement, then id. */
export function newestFirst(changes: Change[]): Change[] {
  return [...changes].sort(
    (a, b) =>
      b.effective.localeCompare(a.effective) || b.announced.localeCompare(a.announced) || a.id.localeCompare(b.id),
  );
}

/** Announced changes that have not taken effect on `today`, soonest first. */
export function upcoming(changes: Change[], today: IsoDate): Change[] {
  return changes
    .filter((c) => c.effective > today)
    .sort((a, b) => a.effective.localeCompare(b.effective) || a.id.localeCompare(b.id));
}

/** The changes that explain a sub-processor's timeline step (same sub-processor, effective that day). */
export function changesFor(changes: Change[], subprocessorId: string, effective: IsoDate): Change[] {
  return changes.filter((c) => c.effective === effective && c.subprocessors.includes(subprocessorId));
}

/** A sub-processor's name as a change shows it: on the effective date, or the day before for a removal. */
export function nameAt(content: Pick<Content, "subprocessors">, id: string, change: Change): string {
  const sp = content.subprocessors.find((x) => x.id === id);
  if (!sp) return id;
  return (stateOn(sp, change.effective) ?? stateOn(sp, addDays(change.effective, -1)))?.state.name ?? id;
}
