import { type Notice, noticeFor, noticeVersionDate } from "./notice.ts";
import { annexCPaths } from "./paths.ts";
import type { Change } from "./schema/change.ts";
import type { IsoDate } from "./schema/common.ts";
import type { ChangeEvent } from "./schema/documents.ts";

// The outbound webhook event (README "Webhooks"): what a subscriber's own system is told of a publication, one event
// per endpoint concerned, in the Standard Webhooks payload shape `{type, timestamp, data}`. Pure: the worker freezes
// the event in the ledger when the publication is recorded (worker/webhooks/plan.ts) and signs the same bytes on
// every attempt.

export const ANNEX_C_CHANGED = "annex-c.changed";

/**
 * The fields of a change event in /changes.json (domain/schema/documents.ts) that the publication itself knows. The
 * version step (`from`, `to`), the audiences a change touches and its RFC 6902 patch are resolved from every version
 * of the content by the site; the event links /changes.json for them (`changeEvents`).
 */
export type WebhookChange = Pick<
  ChangeEvent,
  "id" | "kind" | "aspects" | "announced" | "effective" | "subprocessors" | "html"
>;

/** Whom an endpoint speaks for: its regions (empty = every region) and its cohort (undefined = every cohort). */
export interface WebhookAudience {
  regions: readonly string[];
  cohort?: string | undefined;
}

export interface AnnexCChangedEvent {
  type: typeof ANNEX_C_CHANGED;
  /** When the publication was recorded (ISO 8601): the event's time, the same on every attempt. */
  timestamp: string;
  data: {
    publicationId: number;
    fingerprint: string;
    previousFingerprint: string | null;
    audience: { regions: string[]; cohort: string | null };
    /** The announced changes behind this audience's diff, in change-event shape. */
    changes: WebhookChange[];
    /** /changes.json: every change event with its RFC 6902 patch between versions. */
    changeEvents: string;
    /** DPA 5.5: the permanent JSON of the Annex C version announced, for this audience when it is one region and cohort. */
    annexCUrl: string;
    /** The version's page in each language. */
    annexCPage: { da: string; en: string };
    /** The first date on which something in this event takes effect, and each change's own. */
    effectiveFrom: IsoDate | null;
    effective: { change: string; effective: IsoDate }[];
    objection: {
      /** DPA 5.3, in words. */
      rule: string;
      workingDays: number;
      /** The working-day calendar (weekends and that country's public holidays are not working days). */
      calendar: string;
      /** The window runs from receipt of the notice, not from the effective date. */
      from: "receipt";
      /** The objection form (the subscriber signs in with the manage token from any notice email). */
      url: { da: string; en: string };
      /** The same as an API call: `POST` with `Authorization: Bearer <manage token>`, `{organisation, reason}`. */
      api: string;
    };
  };
}

export interface WebhookEventInput {
  notice: Notice;
  audience: WebhookAudience;
  baseUrl: string;
  vendor: { objectionWorkingDays: number; workingDayCalendar: { country: string } };
}

const abs = (baseUrl: string, path: string) => `${baseUrl.replace(/\/+$/, "")}${path}`;

function annexCLinks(input: WebhookEventInput): Pick<AnnexCChangedEvent["data"], "annexCUrl" | "annexCPage"> {
  const { baseUrl, audience, notice } = input;
  const version = noticeVersionDate(notice);
  if (!version) {
    return {
      annexCUrl: abs(baseUrl, annexCPaths.published),
      annexCPage: { da: abs(baseUrl, "/da/annex-c/"), en: abs(baseUrl, "/en/annex-c/") },
    };
  }
  // One region and one cohort have a file of their own; any wider audience reads the whole version.
  const [region] = audience.regions;
  const own = audience.regions.length === 1 && region !== undefined && audience.cohort !== undefined;
  return {
    annexCUrl: abs(
      baseUrl,
      own ? annexCPaths.audience(version, { region, cohort: audience.cohort as string }) : annexCPaths.json(version),
    ),
    annexCPage: {
      da: abs(baseUrl, annexCPaths.page("da", version)),
      en: abs(baseUrl, annexCPaths.page("en", version)),
    },
  };
}

function changeOf(baseUrl: string, c: Change): WebhookChange {
  return {
    id: c.id,
    kind: c.kind,
    aspects: c.aspects ?? [],
    announced: c.announced,
    effective: c.effective,
    subprocessors: [...c.subprocessors].sort(),
    html: { da: abs(baseUrl, annexCPaths.change("da", c.id)), en: abs(baseUrl, annexCPaths.change("en", c.id)) },
  };
}

/**
 * The event for one endpoint, or undefined when the publication does not concern it: nothing in Annex C as it applies
 * to the endpoint's regions and cohort changed (the same rule as a subscriber's sub-processor notice, domain/notice.ts
 * `noticeFor`). A publication that only adds a DPA version is no Annex C change and sends no event.
 */
export function webhookEventFor(input: WebhookEventInput): AnnexCChangedEvent | undefined {
  const { notice, audience, baseUrl, vendor } = input;
  const personal = noticeFor(notice, {
    id: "webhook",
    locale: "en",
    topics: ["subprocessors"],
    regions: audience.regions,
    cohort: audience.cohort,
  });
  if (!personal?.topics.includes("subprocessors")) return undefined;
  const changes = personal.changes.map((c) => changeOf(baseUrl, c));
  const objectionPath = (locale: "da" | "en") => `/${locale}/subscription/object/${notice.sequence}`;
  return {
    type: ANNEX_C_CHANGED,
    timestamp: notice.publishedAt,
    data: {
      publicationId: notice.sequence,
      fingerprint: notice.fingerprint,
      previousFingerprint: notice.previousFingerprint,
      audience: { regions: [...audience.regions].sort(), cohort: audience.cohort ?? null },
      changes,
      changeEvents: abs(baseUrl, annexCPaths.changes),
      ...annexCLinks(input),
      effectiveFrom: personal.effectiveFrom ?? null,
      effective: changes.map((c) => ({ change: c.id, effective: c.effective })),
      objection: {
        rule:
          `DPA 5.3: the customer may object within ${vendor.objectionWorkingDays} working days from receipt of the ` +
          `notice (${vendor.workingDayCalendar.country} calendar: weekends and public holidays excluded).`,
        workingDays: vendor.objectionWorkingDays,
        calendar: vendor.workingDayCalendar.country,
        from: "receipt",
        url: { da: abs(baseUrl, objectionPath("da")), en: abs(baseUrl, objectionPath("en")) },
        api: abs(baseUrl, `/api/notices/${notice.sequence}/objections`),
      },
    },
  };
}

/**
 * The regions an endpoint speaks for: its own list, or (NULL in the ledger) its subscriber's, read at plan time. An
 * empty list means every region, as for a subscriber.
 */
export function endpointAudience(
  endpoint: { regions: readonly string[] | null; cohort: string | null },
  subscriberRegions: readonly string[],
): WebhookAudience {
  return {
    regions: endpoint.regions ?? subscriberRegions,
    ...(endpoint.cohort !== null ? { cohort: endpoint.cohort } : {}),
  };
}
