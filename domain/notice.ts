import { type AnnexCDocument, type AnnexCEntry, filterEntries } from "./annex.ts";
import { sha256Hex } from "./canonical.ts";
import { type AnnexCDiff, diffAnnexC, isEmptyDiff } from "./diff.ts";
import type { Change } from "./schema/change.ts";
import type { IsoDate, Locale } from "./schema/common.ts";

// Change notices (docs/architecture.md "Notices"): a publication is the new Annex C snapshot, the diff against the previous one and
// the changes it announces. This module decides, without I/O and without the clock, whether a publication is due,
// who is told what about it, and how the fan-out is cut into provider batches. The worker only runs the plan.

/** What a subscriber can ask to be told about. */
export const NOTICE_TOPICS = ["subprocessors", "dpa"] as const;
export type NoticeTopic = (typeof NOTICE_TOPICS)[number];

/**
 * Resend's batch endpoint takes at most 100 emails per call (POST /emails/batch). A chunk of the fan-out is one call,
 * so a queue message never carries more recipients than one call can take.
 */
export const RESEND_BATCH_LIMIT = 100;

/** A provider tag: Resend allows ASCII letters, digits, `_` and `-` in both, at most 256 characters. */
export interface EmailTag {
  name: string;
  value: string;
}

const TAG_TEXT = /^[A-Za-z0-9_-]{1,256}$/;

/** Whether the notices to this recipient carry their delivery's tags (see deliveryTags). */
export function carriesDeliveryTags(recipientId: string): boolean {
  return TAG_TEXT.test(recipientId);
}

/**
 * The tags a notice carries: which delivery it is (publication, recipient). The provider sends them back with every
 * event about the email, so a receipt finds its ledger row by the row's key, and the ledger needs no index of message
 * ids (README "Benchmarks": one row written per email less). None when the id has other characters (an id made by the
 * portal never has): that email's receipt is then found by its message id.
 */
export function deliveryTags(publicationId: number, recipientId: string): EmailTag[] | undefined {
  if (!carriesDeliveryTags(recipientId)) return undefined;
  return [
    { name: "notice", value: String(publicationId) },
    { name: "recipient", value: recipientId },
  ];
}

/**
 * The delivery named by the tags of a provider event, or undefined. Resend sends tags as an object of names and
 * values; a list of `{ name, value }` is read too.
 */
export function deliveryOfTags(tags: unknown): { publicationId: number; recipientId: string } | undefined {
  const pairs: Record<string, unknown> = Array.isArray(tags)
    ? Object.fromEntries(
        tags.flatMap((t) => (t && typeof t === "object" && "name" in t ? [[String(t.name), t.value]] : [])),
      )
    : tags && typeof tags === "object"
      ? (tags as Record<string, unknown>)
      : {};
  const notice = pairs.notice;
  const recipient = pairs.recipient;
  if (typeof notice !== "string" || !/^[1-9][0-9]{0,15}$/.test(notice)) return undefined;
  if (typeof recipient !== "string" || !TAG_TEXT.test(recipient)) return undefined;
  return { publicationId: Number(notice), recipientId: recipient };
}

/** Resend keeps an Idempotency-Key for 24 hours; a retry after that could send twice, so it is not made. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

/** Resend accepts Idempotency-Key values of at most 256 characters. */
export const IDEMPOTENCY_KEY_MAX_LENGTH = 256;

export type PublishDecision =
  /** Nothing published yet (fresh deploy): record the current list as the baseline and mail nobody. */
  | { kind: "baseline" }
  /** Same fingerprint as the last publication: nothing to do. */
  | { kind: "unchanged"; fingerprint: string }
  /** The deployed list differs from the last publication: record it and notify. */
  | { kind: "publish"; previousFingerprint: string };

/** Whether the deployed /annex-c.json calls for a publication, given the fingerprint last published (if any). */
export function publishDecision(lastFingerprint: string | null, deployed: Pick<AnnexCDocument, "fingerprint">) {
  if (lastFingerprint === null) return { kind: "baseline" } satisfies PublishDecision;
  if (lastFingerprint === deployed.fingerprint) {
    return { kind: "unchanged", fingerprint: lastFingerprint } satisfies PublishDecision;
  }
  return { kind: "publish", previousFingerprint: lastFingerprint } satisfies PublishDecision;
}

/** A DPA version as listed in the snapshot. */
export interface DpaVersionRef {
  version: string;
  effectiveFrom: IsoDate;
}

/** Everything a notice says, for every subscriber at once; personalised by `noticeFor`. */
export interface Notice {
  publicationId: string;
  sequence: number;
  fingerprint: string;
  previousFingerprint: string | null;
  /** When the publication was recorded (ISO 8601 instant). */
  publishedAt: string;
  /** Entries of the previous publication (all regions); the regional diff is computed from them. */
  previousEntries: AnnexCEntry[];
  /** The deployed document this publication recorded. */
  document: AnnexCDocument;
  /** Changes in the log that the previous publication did not have: the ones this notice announces. */
  announced: Change[];
  /** DPA versions that the previous publication did not list. */
  dpaVersionsAdded: DpaVersionRef[];
}

/** The parts of a publication the worker stores: built from the previous and the deployed document. */
export function buildNotice(
  previous: AnnexCDocument,
  current: AnnexCDocument,
  meta: { publicationId: string; sequence: number; publishedAt: string },
): Notice {
  const knownChanges = new Set(previous.changes.map((c) => c.id));
  const knownDpa = new Set(previous.snapshot.dpaVersions.map((v) => v.version));
  return {
    ...meta,
    fingerprint: current.fingerprint,
    previousFingerprint: previous.fingerprint,
    previousEntries: previous.snapshot.entries,
    document: current,
    announced: current.changes.filter((c) => !knownChanges.has(c.id)),
    dpaVersionsAdded: current.snapshot.dpaVersions.filter((v) => !knownDpa.has(v.version)),
  };
}

/** The whole-list diff of a notice (every region). */
export function noticeDiff(notice: Pick<Notice, "previousEntries" | "document">): AnnexCDiff {
  return diffAnnexC(notice.previousEntries, notice.document.snapshot.entries);
}

/** The preferences of a subscriber that decide what they are told. */
/**
 * The date the published list a notice announces is resolved for: the last effective date in its change log. The
 * permanent version page and files are keyed by it (the notice email and the webhook event link the same version).
 */
export function noticeVersionDate(notice: Pick<Notice, "document">): IsoDate | undefined {
  let latest: IsoDate | undefined;
  for (const c of notice.document.changes) if (latest === undefined || c.effective > latest) latest = c.effective;
  return latest;
}

export interface NoticeSubscriber {
  id: string;
  locale: Locale;
  topics: readonly NoticeTopic[];
  /** Customer regions the subscriber follows; empty = every region. */
  regions: readonly string[];
  /**
   * The contract cohort the subscriber stated (vendor.yaml cohorts): only that cohort's rows of Annex C apply to them.
   * Undefined = "I don't know": every cohort's rows, as before cohorts were asked.
   */
  cohort?: string | undefined;
}

/** What one subscriber is told: their topics, their regions' diff and their regions' full Annex C. */
export interface PersonalNotice {
  locale: Locale;
  topics: NoticeTopic[];
  regions: string[];
  /** The cohort the rows were resolved for; undefined = every cohort's rows. */
  cohort?: string | undefined;
  /** The diff as seen from the subscriber's regions (empty when the topic is only DPA). */
  diff: AnnexCDiff;
  /** DPA 5.5 (docs/architecture.md "Where each legal rule lives"): the FULL updated Annex C for the subscriber's regions, carried in the notice. */
  annexC: AnnexCEntry[];
  /** Announced changes that concern the subscriber's regions (sub-processor topic) or a new DPA version (dpa topic). */
  changes: Change[];
  dpaVersionsAdded: DpaVersionRef[];
  /** The first date on which something in this notice takes effect (undefined when nothing has a date). */
  effectiveFrom: IsoDate | undefined;
}

function audienceOf(regions: readonly string[], cohort: string | undefined) {
  return { ...(regions.length > 0 ? { regions } : {}), ...(cohort !== undefined ? { cohort } : {}) };
}

/**
 * What `subscriber` is told about `notice`, or undefined when it does not concern them:
 * - topic `subprocessors`: a change to Annex C as it applies to their regions (a change that only touches another
 *   region's data centres is not theirs);
 * - topic `dpa`: a new DPA version. DPA-only subscribers hear nothing of sub-processor changes, and the reverse.
 */
export function noticeFor(notice: Notice, subscriber: NoticeSubscriber): PersonalNotice | undefined {
  const audience = audienceOf(subscriber.regions, subscriber.cohort);
  const wantsSubprocessors = subscriber.topics.includes("subprocessors");
  const wantsDpa = subscriber.topics.includes("dpa");
  const emptyDiff: AnnexCDiff = { added: [], removed: [], changed: [] };
  const diff = wantsSubprocessors
    ? diffAnnexC(
        filterEntries(notice.previousEntries, audience),
        filterEntries(notice.document.snapshot.entries, audience),
      )
    : emptyDiff;
  const dpaVersionsAdded = wantsDpa ? notice.dpaVersionsAdded : [];
  const topics: NoticeTopic[] = [];
  if (!isEmptyDiff(diff)) topics.push("subprocessors");
  if (dpaVersionsAdded.length > 0) topics.push("dpa");
  if (topics.length === 0) return undefined;

  const changes = changesConcerning(notice.announced, diff, dpaVersionsAdded);
  return {
    locale: subscriber.locale,
    topics,
    regions: [...subscriber.regions].sort(),
    ...(subscriber.cohort !== undefined ? { cohort: subscriber.cohort } : {}),
    diff,
    annexC: filterEntries(notice.document.snapshot.entries, audience),
    changes,
    dpaVersionsAdded,
    effectiveFrom: earliestEffective(changes, diff, dpaVersionsAdded),
  };
}

/** The announced changes behind a diff: those naming a sub-processor it touches or a DPA version it adds. */
export function changesConcerning(
  announced: readonly Change[],
  diff: AnnexCDiff,
  dpaVersionsAdded: readonly DpaVersionRef[] = [],
): Change[] {
  const touched = new Set([...diff.added, ...diff.removed, ...diff.changed].map((e) => e.id));
  const newDpa = new Set(dpaVersionsAdded.map((v) => v.version));
  return announced.filter(
    (c) => c.subprocessors.some((id) => touched.has(id)) || (c.dpaVersion !== undefined && newDpa.has(c.dpaVersion)),
  );
}

/** The first date on which something in a notice takes effect (undefined when nothing has a date). */
export function earliestEffective(
  changes: readonly Change[],
  diff: AnnexCDiff,
  dpaVersionsAdded: readonly DpaVersionRef[] = [],
): IsoDate | undefined {
  return [
    ...changes.map((c) => c.effective),
    ...diff.added.map((e) => e.since),
    ...diff.changed.map((e) => e.since),
    ...dpaVersionsAdded.map((v) => v.effectiveFrom),
  ].sort()[0];
}

/** One provider call's worth of recipients: a queue message. */
export interface FanoutChunk {
  publicationId: string;
  /** Position of the chunk in the plan; part of the Idempotency-Key. */
  index: number;
  subscriberIds: string[];
}

export interface FanoutPlan {
  publicationId: string;
  /** Subscribers the notice concerns, in id order. */
  recipients: string[];
  /** Subscribers it does not concern (topic or region), in id order. */
  notConcerned: string[];
  chunks: FanoutChunk[];
}

/** Splits `items` into consecutive runs of at most `size`. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`chunk size must be a whole number ≥ 1, got ${size}`);
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Who gets the notice, cut into chunks of at most `batchSize` (≤ RESEND_BATCH_LIMIT). The plan is a function of the
 * publication and the subscriber list only: planning twice gives the same chunks, so a re-run enqueues the same
 * messages and the deliveries table (UNIQUE(publication, subscriber)) absorbs the repeat.
 */
export function planFanout(
  notice: Notice,
  subscribers: readonly NoticeSubscriber[],
  options: { batchSize?: number } = {},
): FanoutPlan {
  const batchSize = options.batchSize ?? RESEND_BATCH_LIMIT;
  if (batchSize > RESEND_BATCH_LIMIT) {
    throw new RangeError(`a batch holds at most ${RESEND_BATCH_LIMIT} emails (Resend batch limit), got ${batchSize}`);
  }
  const sorted = [...subscribers].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const recipients: string[] = [];
  const notConcerned: string[] = [];
  // Whether a notice concerns someone depends on their topics and regions only: decided once per combination.
  const concerns = new Map<string, boolean>();
  for (const s of sorted) {
    const key = `${[...s.topics].sort().join(",")}|${[...s.regions].sort().join(",")}|${s.cohort ?? ""}`;
    let yes = concerns.get(key);
    if (yes === undefined) {
      yes = noticeFor(notice, s) !== undefined;
      concerns.set(key, yes);
    }
    (yes ? recipients : notConcerned).push(s.id);
  }
  return {
    publicationId: notice.publicationId,
    recipients,
    notConcerned,
    chunks: chunk(recipients, batchSize).map((subscriberIds, index) => ({
      publicationId: notice.publicationId,
      index,
      subscriberIds,
    })),
  };
}

/**
 * The Idempotency-Key of one provider call: the same publication, chunk and recipients always give the same key, so
 * a call retried after a lost response or a crash is recognised by Resend (for 24 h) instead of sending again. A
 * different recipient set (someone unsubscribed before the first attempt) gives a different key.
 */
export async function batchIdempotencyKey(
  publicationId: string,
  chunkIndex: number,
  recipientIds: readonly string[],
): Promise<string> {
  const digest = await sha256Hex(`${publicationId}\n${chunkIndex}\n${[...recipientIds].sort().join("\n")}`);
  return `notice/${publicationId}/${chunkIndex}/${digest}`.slice(0, IDEMPOTENCY_KEY_MAX_LENGTH);
}

/** A delivery whose first attempt is older than the idempotency window may not be retried automatically. */
export function isPastIdempotencyWindow(firstAttemptAt: string, now: Date): boolean {
  return now.getTime() - Date.parse(firstAttemptAt) >= IDEMPOTENCY_WINDOW_MS;
}
