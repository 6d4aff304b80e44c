import { copenhagenDate } from "../domain/dates.ts";
import type { IsoDate } from "../domain/schema/common.ts";

/**
 * "Today" for a build or a script run, computed in this one place: BUILD_DATE (YYYY-MM-DD) when set, for tests and
 * reproducible builds, otherwise the calendar date in Copenhagen, where the vendor's working days are counted.
 * Every page that says "today", "upcoming" or "current", and every script that checks dates, uses this value.
 */
export function resolveBuildDate(env: string | undefined, now: Date = new Date()): IsoDate {
  if (env !== undefined && env !== "") {
    const ok = /^\d{4}-\d{2}-\d{2}$/.test(env) && new Date(`${env}T00:00:00Z`).toISOString().slice(0, 10) === env;
    if (!ok) throw new Error(`BUILD_DATE must be a calendar date written as YYYY-MM-DD, got ${JSON.stringify(env)}`);
    return env;
  }
  return copenhagenDate(now);
}

/** Today from the process environment (BUILD_DATE, else Copenhagen's date). */
export function buildDate(env: NodeJS.ProcessEnv = process.env, now: Date = new Date()): IsoDate {
  return resolveBuildDate(env.BUILD_DATE, now);
}

/** The one "today" of a site build: all pages of one build agree on it. */
export const TODAY: IsoDate = buildDate();
