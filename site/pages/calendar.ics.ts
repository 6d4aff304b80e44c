import type { APIRoute } from "astro";
import { calendarFile, calendarResponse } from "../lib/calendar.ts";
import { loadContent } from "../lib/content.ts";
import { baseUrlOf } from "../lib/machine.ts";

/** /calendar.ics: every effective date and objection deadline (iCalendar, all-day events). */
export const GET: APIRoute = async ({ site }) => calendarResponse(calendarFile(await loadContent(), baseUrlOf(site)));
