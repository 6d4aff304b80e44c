import type { Content } from "../../domain/content.ts";
import { type AllDayEvent, icsCalendar } from "../../domain/icalendar.ts";
import { changeKindLabel } from "../../domain/labels.ts";
import { annexCPaths } from "../../domain/machine.ts";
import type { Change } from "../../domain/schema/change.ts";
import { touchedBy } from "./annex.ts";
import { nameAt, objectionDeadlineFor } from "./changes.ts";

// /calendar.ics and /calendar/<region>.ics: one event on every effective date, and for every change the last day to
// object to its notice (DPA 5.3) when received on its announcement date. In English with the Danish summary, like
// the feed: one calendar serves both languages.

/**
 * A day's event lists at most this many changes and links the version page for the rest: a calendar entry is read on
 * a phone, and the iCalendar writer folds long lines in time that grows with the square of their length (a day with
 * 80 changes took seconds per calendar in the build benchmark).
 */
const LISTED_PER_DAY = 10;

/** Changes whose Annex C, for `region`, differs before and after (all changes when no region is given). */
function concerning(content: Content, region: string | undefined): Change[] {
  if (region === undefined) return content.changes;
  return content.changes.filter((change) => touchedBy(content, change).regions.includes(region));
}

const deadlines = new WeakMap<object, Map<string, AllDayEvent>>();

export function calendarFile(content: Content, baseUrl: string, region?: string): string {
  const { vendor } = content;
  const abs = (path: string) => new URL(path, baseUrl).href;
  const host = new URL(baseUrl).host;
  const changes = concerning(content, region);
  const label = (c: Change) =>
    `${changeKindLabel(c.kind, "en")}: ${c.subprocessors.map((id) => nameAt(content, id, c)).join(", ")}`;
  const line = (c: Change) =>
    `- ${label(c)}. ${c.summary.en} ${abs(annexCPaths.change("en", c.id))}\n  ${c.summary.da}`;

  const byDate = new Map<string, Change[]>();
  for (const c of [...changes].sort((a, b) => a.id.localeCompare(b.id))) {
    byDate.set(c.effective, [...(byDate.get(c.effective) ?? []), c]);
  }
  const events: AllDayEvent[] = [];
  for (const [date, list] of [...byDate].sort(([a], [b]) => a.localeCompare(b))) {
    const only = list.length === 1 ? list[0] : undefined;
    events.push({
      uid: `effective-${date}.${region ?? "all"}@${host}`,
      date,
      title: only ? `Takes effect: ${label(only)}` : `${list.length} sub-processor changes take effect`,
      description: [
        `Annex C of ${vendor.legalEntity} changes on this day.`,
        ...list.slice(0, LISTED_PER_DAY).map(line),
        ...(list.length > LISTED_PER_DAY
          ? [`… and ${list.length - LISTED_PER_DAY} more: ${abs(annexCPaths.page("en", date))}`]
          : []),
      ].join("\n"),
      url: abs(only ? annexCPaths.change("en", only.id) : annexCPaths.page("en", date)),
      stamp: list.map((c) => c.announced).sort()[0] ?? date,
    });
  }
  // A change's deadline reads the same in every calendar that lists it: the same event object each time, so the
  // iCalendar writer writes it once for /calendar.ics and all the region calendars (domain/icalendar.ts).
  let known = deadlines.get(content);
  if (!known) {
    known = new Map();
    deadlines.set(content, known);
  }
  for (const c of changes) {
    const key = `${baseUrl}|${c.id}`;
    let event = known.get(key);
    if (!event) {
      event = {
        uid: `objection-${c.id}@${host}`,
        date: objectionDeadlineFor(c, vendor),
        title: `Last day to object: ${label(c)}`,
        description: [
          `DPA 5.3: ${vendor.objectionWorkingDays} Danish working days from receiving the notice, here for a notice received on its announcement date, ${c.announced}. Your own deadline runs from when you received it and is stated in your notice email.`,
          line(c),
        ].join("\n"),
        url: abs(annexCPaths.change("en", c.id)),
        stamp: c.announced,
      };
      known.set(key, event);
    }
    events.push(event);
  }
  const regionName = region ? vendor.regions.find((r) => r.id === region)?.name.en : undefined;
  return icsCalendar(`${vendor.name}: sub-processor changes${regionName ? ` (${regionName})` : ""}`, events);
}

export function calendarResponse(ics: string): Response {
  return new Response(ics, { headers: { "Content-Type": "text/calendar; charset=utf-8" } });
}
