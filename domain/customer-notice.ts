import { type AnnexCEntry, type Audience, filterEntries } from "./annex.ts";
import { canonicalJson } from "./canonical.ts";
import { type AnnexCDiff, diffAnnexC, isEmptyDiff } from "./diff.ts";
import {
  changesConcerning,
  chunk,
  earliestEffective,
  type Notice,
  type PersonalNotice,
  RESEND_BATCH_LIMIT,
} from "./notice.ts";
import type { Change } from "./schema/change.ts";
import type { IsoDate, Locale } from "./schema/common.ts";
import { type Customer, customerCohort } from "./schema/customer.ts";
import type { Cohort } from "./schema/vendor.ts";

// Notices to customers. DPA 5.2: the vendor gives written notice to each customer 30 days before a new sub-processor
// starts. DPA 5.5: the notice carries the updated Annex C, which for a customer is the Annex C of ITS region and
// cohort, not the whole list: a UK customer contracted on or before 5 July 2023 sees the legacy rows, one contracted
// after sees the current ones. This module decides, without I/O, who is concerned and what each contact is sent;
// rendering and sending stay with the worker.

/** One email of the fan-out: a notice contact of a concerned customer, in its language. */
export interface CustomerRecipient {
  /** The customer's externalId. */
  customer: string;
  email: string;
  name?: string | undefined;
  /** The contact's locale, falling back to the customer's. */
  locale: Locale;
}

export const NOT_CONCERNED_REASONS = {
  "no-row-changed": "no row of its Annex C changed",
} as const;
export type NotConcernedReason = keyof typeof NOT_CONCERNED_REASONS;

/** What a publication means for one customer; the evidence keeps it (domain/evidence.ts). */
export interface CustomerNotice {
  customer: string;
  region: string;
  /** The cohort its Annex C was resolved for (named on the customer, or from its contract date). */
  cohort: string | undefined;
  /** True when the diff for its region and cohort is not empty: it gets the notice. */
  concerned: boolean;
  /** Why it gets nothing; present exactly when not concerned. */
  reason?: { code: NotConcernedReason; detail: string } | undefined;
  /** DPA 5.5: the updated Annex C for its region and cohort, as the notice carries it. */
  annexC: AnnexCEntry[];
  /** What changed in that Annex C. */
  diff: AnnexCDiff;
  /** The announced changes behind the diff: what an objection can name. */
  changes: Change[];
  effectiveFrom: IsoDate | undefined;
  /** One per contact that can be written to; empty when not concerned. */
  recipients: CustomerRecipient[];
  /** Contacts left out because their address is suppressed (bounce, complaint, unsubscribe). */
  suppressed: string[];
}

export interface CustomerNoticeOptions {
  /** Addresses that must not be written to (the worker's suppression list), lower-case. */
  suppressed?: ReadonlySet<string> | undefined;
}

type Publication = Pick<Notice, "previousEntries" | "document" | "announced">;

interface AudienceView {
  annexC: AnnexCEntry[];
  diff: AnnexCDiff;
  changes: Change[];
  effectiveFrom: IsoDate | undefined;
}

/**
 * A customer's Annex C: the rows and locations that apply to its region and cohort. The snapshot entries are
 * resolveAnnexC's output for every audience (domain/annex.ts); filtering them is resolveAnnexC for one audience.
 * Every location left applies to this customer, so whom else it applies to (`appliesTo`) is dropped: a location
 * extended to other customers is no change for this one, and must not send it a notice about nothing.
 */
export function customerAnnexC(entries: readonly AnnexCEntry[], audience: Audience): AnnexCEntry[] {
  return filterEntries([...entries], audience).map((entry) => ({
    ...entry,
    locations: entry.locations
      .map(({ appliesTo: _appliesTo, ...location }) => location)
      .sort((a, b) => canonicalJson(a).localeCompare(canonicalJson(b))),
  }));
}

/** Annex C of one region and cohort before and after the publication, and what changed in it. */
function audienceView(publication: Publication, audience: Audience): AudienceView {
  const before = customerAnnexC(publication.previousEntries, audience);
  const annexC = customerAnnexC(publication.document.snapshot.entries, audience);
  const diff = diffAnnexC(before, annexC);
  const changes = changesConcerning(publication.announced, diff);
  return { annexC, diff, changes, effectiveFrom: earliestEffective(changes, diff) };
}

function noticeFrom(
  view: AudienceView,
  customer: Customer,
  cohort: string | undefined,
  options: CustomerNoticeOptions,
): CustomerNotice {
  const concerned = !isEmptyDiff(view.diff);
  const suppressed = customer.contacts.filter((c) => options.suppressed?.has(c.email)).map((c) => c.email);
  const recipients: CustomerRecipient[] = concerned
    ? customer.contacts
        .filter((c) => !options.suppressed?.has(c.email))
        .map((c) => ({
          customer: customer.externalId,
          email: c.email,
          ...(c.name !== undefined ? { name: c.name } : {}),
          locale: c.locale ?? customer.locale,
        }))
    : [];
  return {
    customer: customer.externalId,
    region: customer.region,
    cohort,
    concerned,
    ...(concerned
      ? {}
      : {
          reason: {
            code: "no-row-changed" as const,
            detail: `${NOT_CONCERNED_REASONS["no-row-changed"]} (region ${customer.region}${cohort ? `, cohort ${cohort}` : ""})`,
          },
        }),
    annexC: view.annexC,
    diff: view.diff,
    changes: view.changes,
    effectiveFrom: view.effectiveFrom,
    recipients,
    suppressed,
  };
}

/** What `publication` means for `customer`, resolved for its exact region and cohort. */
export function customerNoticeFor(
  publication: Publication,
  customer: Customer,
  cohorts: readonly Cohort[],
  options: CustomerNoticeOptions = {},
): CustomerNotice {
  const cohort = customerCohort(customer, cohorts);
  return noticeFrom(audienceView(publication, { region: customer.region, cohort }), customer, cohort, options);
}

/**
 * What a contact of a customer resolved for `audience` is told, in the shape the notice email renders
 * (worker/email/notice.ts): its Annex C and diff only, as planCustomerNotices decided; undefined when that audience is
 * not concerned. The fan-out renders from the audience frozen in the ledger, so a retry renders the same email.
 */
export function customerPersonalNotice(
  publication: Publication,
  audience: { region: string; cohort: string | undefined },
  locale: Locale,
): PersonalNotice | undefined {
  const view = audienceView(publication, audience);
  if (isEmptyDiff(view.diff)) return undefined;
  return {
    locale,
    topics: ["subprocessors"],
    regions: [audience.region],
    ...(audience.cohort !== undefined ? { cohort: audience.cohort } : {}),
    diff: view.diff,
    annexC: view.annexC,
    changes: view.changes,
    dpaVersionsAdded: [],
    effectiveFrom: view.effectiveFrom,
  };
}

/**
 * Every customer's notice, in externalId order. Annex C and its diff depend only on (region, cohort), so they are
 * computed once per pair: 10,000 customers cost as many diffs as there are pairs (a handful), not 10,000.
 */
export function planCustomerNotices(
  publication: Publication,
  customers: readonly Customer[],
  cohorts: readonly Cohort[],
  options: CustomerNoticeOptions = {},
): CustomerNotice[] {
  const views = new Map<string, AudienceView>();
  const sorted = [...customers].sort((a, b) =>
    a.externalId < b.externalId ? -1 : a.externalId > b.externalId ? 1 : 0,
  );
  return sorted.map((customer) => {
    const cohort = customerCohort(customer, cohorts);
    const key = `${customer.region}\n${cohort ?? ""}`;
    let view = views.get(key);
    if (!view) {
      view = audienceView(publication, { region: customer.region, cohort });
      views.set(key, view);
    }
    return noticeFrom(view, customer, cohort, options);
  });
}

/** One provider call's worth of customer contacts: a queue message. */
export interface CustomerFanoutChunk {
  publicationId: string;
  index: number;
  recipients: CustomerRecipient[];
}

/**
 * The fan-out of the customer notices: every recipient of a concerned customer, ordered by (customer, email), cut
 * into chunks of at most `batchSize` (≤ RESEND_BATCH_LIMIT). Planning twice gives the same chunks, so a re-run
 * enqueues the same messages and the ledger's one row per (publication, contact) absorbs the repeat.
 */
export function planCustomerFanout(
  publicationId: string,
  notices: readonly CustomerNotice[],
  options: { batchSize?: number } = {},
): CustomerFanoutChunk[] {
  const batchSize = options.batchSize ?? RESEND_BATCH_LIMIT;
  if (batchSize > RESEND_BATCH_LIMIT) {
    throw new RangeError(`a batch holds at most ${RESEND_BATCH_LIMIT} emails (Resend batch limit), got ${batchSize}`);
  }
  const key = (r: CustomerRecipient) => `${r.customer}\n${r.email}`;
  const recipients = notices
    .flatMap((n) => n.recipients)
    .sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  return chunk(recipients, batchSize).map((list, index) => ({ publicationId, index, recipients: list }));
}
