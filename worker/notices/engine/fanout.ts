import { objectionDeadline } from "../../../domain/calendar.ts";
import { customerPersonalNotice } from "../../../domain/customer-notice.ts";
import {
  batchIdempotencyKey,
  deliveryTags,
  isPastIdempotencyWindow,
  type Notice,
  type NoticeTopic,
  noticeFor,
  type PersonalNotice,
} from "../../../domain/notice.ts";
import type { Locale } from "../../../domain/schema/common.ts";
import { contactNoticeLinks, noticeLinks } from "../../../emails/links.ts";
import type { OutgoingEmail, RenderedEmail } from "../../../emails/message.ts";
import { type NoticeEmailInput, renderNotice } from "../../../emails/notice.ts";
import type { Departed } from "../../email/port.ts";

// The send loop of the notice fan-out (docs/architecture.md "Notices"). One queue message = one chunk of one publication's frozen
// plan = at most one provider batch call. Runs unchanged in workerd (D1 store) and in Node (in-memory store, bench).
//
// Exactly once per (publication, subscriber), under at-least-once queue delivery:
// 1. deliveries rows are UNIQUE(publication, subscriber): a re-delivered message inserts nothing new;
// 2. a pending row (or, for a subscriber, a row not written yet: the claim inserts it) is claimed (status sending)
//    together with its Idempotency-Key and the preferences it is rendered with, in one write; rows already claimed
//    are never re-claimed, only re-sent under the key they were claimed with, byte-for-byte the same payload
//    (rendered from the claim, never from live state);
// 3. a provider answer we did not see (5xx, network error, lost response, crash before recording) leaves the rows in
//    `sending`; the retry sends the same key, and the provider returns the first result instead of sending again;
// 4. Resend keeps a key for 24 h: a row still `sending` after that is flagged `stuck` for a person, never re-sent.
// Proved by tests/worker/notices-faults.test.ts.
//
// A customer's notice contact is a recipient like a subscriber (README "How notices and objections work"): the same
// ledger row keyed by its contact id, with the customer and the audience (region, cohort) frozen in the plan at publish
// time; its email carries only the rows of that audience's Annex C (domain/customer-notice.ts).

/** A queue message: one chunk of a publication's fan-out plan. */
export interface FanoutMessage {
  publicationId: number;
  chunk: number;
  /**
   * In ascending order: the plan cuts its chunks from one sorted list, so the ranges of a publication's chunks do not
   * overlap and the D1 store finds a chunk's rows by a key range (worker/db/deliveries.ts).
   */
  subscriberIds: string[];
}

export type DeliveryStatus = "pending" | "sending" | "sent" | "suppressed" | "dead" | "stuck";

/**
 * The Annex C audience a delivery is resolved for, stored with it (deliveries.audience): a contact's customer region
 * and cohort (frozen at publish time), or the cohort a subscriber stated (snapshot at claim time).
 */
export interface DeliveryAudience {
  region?: string | undefined;
  cohort?: string | undefined;
}

/** A delivery that is not finished yet. */
export interface OpenDelivery {
  subscriberId: string;
  status: "pending" | "sending";
  email: string | null;
  locale: Locale | null;
  topics: NoticeTopic[] | null;
  regions: string[] | null;
  batchKey: string | null;
  claimedAt: string | null;
  /** The DPA 5.3 deadline stored with the claim; the email quotes it (null until claimed). */
  deadline: string | null;
  attempts: number;
  /** Set for a customer's contact (the recipient id is then the contact id). */
  customerId?: string | null | undefined;
  audience?: DeliveryAudience | null | undefined;
}

/**
 * The recipient as they stand now (undefined when erased). A contact is "confirmed" while active and its customer is
 * under contract; otherwise its status says why it gets nothing.
 */
export interface LiveSubscriber {
  id: string;
  email: string;
  status: "pending" | "confirmed" | "unsubscribed" | "suppressed" | "removed" | "ended";
  locale: Locale;
  topics: NoticeTopic[];
  regions: string[];
  /** The contract cohort a subscriber stated; undefined = "I don't know" (every cohort's rows). */
  cohort?: string | undefined;
  /** Set for a customer's contact. */
  customerId?: string | undefined;
  /** A subscriber's: the SHA-256 of the manage token already stored for their notices (engine/tokens.ts), if any. */
  noticeTokenHash?: string | null | undefined;
}

export interface ClaimRow {
  subscriberId: string;
  email: string;
  locale: Locale;
  topics: NoticeTopic[];
  regions: string[];
  /** A contact's customer (its audience is already in the ledger), or null for a subscriber. */
  customerId: string | null;
  /** The audience rendered: a contact's frozen one, or the subscriber's stated cohort; null for every cohort. */
  audience: DeliveryAudience | null;
  deadline: string;
  /**
   * SHA-256 of the token carried by this email: a subscriber's manage token (registered with the claim unless stored
   * already), or a contact's notice token (contact_tokens, with the publication).
   */
  manageTokenHash: string;
  /** The token is stored already (a subscriber's, registered when they confirmed): the claim writes no token. */
  manageTokenStored: boolean;
}

/** Everything the send loop needs from storage; implemented over D1 (worker/db/deliveries.ts) and in memory (bench). */
export interface DeliveryStore {
  /**
   * The rows among `subscriberIds` that are still pending or sending. A recipient without a row comes back pending
   * with nothing claimed: a subscriber's row is first written by its claim or its suppression (one insert instead of
   * an insert and an update, README "Benchmarks"); a contact's row is written with the plan (its audience is frozen).
   */
  open(publicationId: number, subscriberIds: readonly string[]): Promise<OpenDelivery[]>;
  /**
   * `open`, and the recipients of the pending rows as they stand now (self-subscribers and customers' contacts, each
   * looked up where it lives): a subscriber's row and its ledger row are read in one statement (README "Benchmarks").
   */
  openWithRecipients(
    publicationId: number,
    subscriberIds: readonly string[],
  ): Promise<{ open: OpenDelivery[]; live: Map<string, LiveSubscriber> }>;
  /** Marks pending rows suppressed (unsubscribed, bounced, erased, no longer concerned), writing missing ones so. */
  suppress(
    publicationId: number,
    chunk: number,
    subscriberIds: readonly string[],
    reason: string,
    now: string,
  ): Promise<void>;
  /**
   * Claims pending rows for one provider call: status sending, batch key, claim time, snapshot of the preferences,
   * the send lease (see `lease`) in the same write, and registers the manage tokens the emails carry. Returns the ids
   * actually claimed (a concurrent consumer may have claimed some first).
   */
  claim(
    publicationId: number,
    chunk: number,
    rows: readonly ClaimRow[],
    batchKey: string,
    claimedAt: string,
    lease: { owner: string; untilMs: number },
  ): Promise<string[]>;
  /**
   * Takes (or renews) the right to send the call under `batchKey` until `untilMs`: false while another consumer
   * holds an unexpired lease. Two consumers sending one key at once could each see a different answer (one a
   * refusal, the other a success) and record the wrong one.
   */
  lease(
    publicationId: number,
    batchKey: string,
    subscriberIds: readonly string[],
    owner: string,
    nowMs: number,
    untilMs: number,
  ): Promise<boolean>;
  /** Counts an attempt of the call under `batchKey`, records its error and releases the lease. */
  attempted(
    publicationId: number,
    batchKey: string,
    subscriberIds: readonly string[],
    detail: string,
    now: string,
  ): Promise<void>;
  /**
   * The provider accepted the call: every row among `subscriberIds` still sending under `batchKey` is sent, with its
   * message id. The rows are found by their ids (the primary key), so the ledger needs no index on the batch key.
   */
  sent(
    publicationId: number,
    batchKey: string,
    subscriberIds: readonly string[],
    messageIds: Map<string, string>,
    now: string,
  ): Promise<void>;
  /**
   * Rows end in `status` (dead: never sent; stuck: may have been sent, a person must check) and are listed in the
   * dead letters in the same write, so the vendor sees every one of them. A missing row (never claimed) is written
   * so.
   */
  finish(
    publicationId: number,
    batchKey: string | null,
    subscriberIds: readonly string[],
    status: "dead" | "stuck",
    detail: string,
    now: string,
    letter: { message: FanoutMessage; attempts: number },
  ): Promise<void>;
}

/** What came of one batch call. Resend's SDK returns `{data, error}`; a network failure is an unknown outcome. */
export type BatchOutcome =
  | { kind: "accepted"; messageIds: string[] }
  /** 429: nothing was sent; try again after the hint. */
  | { kind: "rate-limited"; retryAfterSeconds: number; detail: string }
  /** 5xx, network error, timeout, or the same key still in progress: it may or may not have been sent. */
  | { kind: "unknown"; detail: string; retryAfterSeconds?: number }
  /** Any other 4xx: retrying the same payload cannot succeed. */
  | { kind: "rejected"; status: number; detail: string }
  /**
   * 409: the provider already holds a different request under this key, so an earlier attempt under it went
   * through. Resending cannot be right and the ids are not known: a person looks at the provider's log.
   */
  | { kind: "key-conflict"; detail: string };

/** What sendClaimed reports: the provider's outcome, or that another consumer is sending this key right now. */
export type SendResult = BatchOutcome | { kind: "held"; retryAfterSeconds: number; detail: string };

/**
 * How long a consumer may hold the right to send one batch key: the wait for a send slot plus one provider call
 * (the transport gives up after 15 s), with room to spare; short enough that a consumer that crashed mid-call does
 * not hold the retry back for long (it comes back after the lease, well inside Resend's 24 h key window).
 */
export const SEND_LEASE_MS = 180_000;

/**
 * Calls of one batch repeated inside the consumer run that holds its send lease, after a 429 or an unknown outcome,
 * before the batch goes back to the queue (README "Benchmarks": a failed batch waiting out the queue's retry delay
 * leaves send slots unused). Same key, same body, next send slot; the lease is renewed
 * before each once half of it has run out, so the exactly-once rules above hold unchanged.
 */
export const IN_PLACE_RETRIES = 3;

/** A retry-after longer than this is waited out on the queue, not by a consumer holding a lease and a batch. */
export const IN_PLACE_MAX_WAIT_SECONDS = 5;

export interface BatchSender {
  /**
   * One provider call. `gate` is awaited once the request is ready to leave, right before it does (the send slot,
   * see RateLimiter); without it the call leaves at once.
   */
  sendBatch(
    emails: readonly OutgoingEmail[],
    idempotencyKey: string,
    gate?: () => Promise<Departed>,
  ): Promise<BatchOutcome>;
}

/** Hands out send slots so that all senders together stay under the provider's request rate. */
export interface RateLimiter {
  /** Resolves inside a send slot, with what records the call's departure (worker/email/port.ts Departed). */
  acquire(): Promise<Departed>;
}

export interface FanoutDeps {
  store: DeliveryStore;
  sender: BatchSender;
  limiter: RateLimiter;
  /** The publication's notice (cached by the caller). */
  notice(publicationId: number): Promise<Notice>;
  vendor: NoticeEmailInput["vendor"];
  baseUrl: string;
  /** Derives the manage token an email carries; deterministic, so a retried call renders the same email. */
  manageToken(publicationId: number, recipientId: string, contact: boolean): Promise<{ token: string; hash: string }>;
  now(): Date;
  /** Attempts of one message before its open deliveries are given up as dead (queue max_retries + 1). */
  maxAttempts: number;
  /** How long one consumer holds the right to send a batch key; SEND_LEASE_MS unless configured. */
  sendLeaseMs?: number;
  /**
   * Waits out a retry-after in place; a timer unless configured (tests move a virtual clock; the queue consumer lets
   * another message take the waiting one's place meanwhile, worker/notices/queue.ts).
   */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Whether a retry-after of `waitMs` is worth waiting out in place now (yes unless configured): the queue consumer
   * says no once what is left of its batch has too few calls to fill the wait, so that the wait does not hold the
   * batch's end open; the message then goes back to the queue with that delay.
   */
  mayWaitInPlace?: (waitMs: number) => boolean;
  /**
   * Waits for this run's turn to prepare a call (render its emails, serialise its body) and returns the release,
   * called once the call is ready to leave; unless configured every call prepares at once. The queue consumer gives
   * one turn at a time, in the order asked (worker/notices/queue.ts): calls prepared side by side are all ready late,
   * together, and at the start of a batch the send slots wait for the first of them.
   */
  preparing?: () => Promise<() => void>;
}

export type MessageResult =
  | { action: "ack"; sent: number; suppressed: number; dead: number; stuck: number }
  | { action: "retry"; delaySeconds: number; reason: string };

/**
 * Back-off for unknown outcomes after the given attempt: 1, 2, 4 … seconds, at most 5 minutes (the sum of ten stays
 * far inside Resend's 24 h key window). The first retry comes quickly: the same key makes it safe.
 */
export function backoffSeconds(attempts: number): number {
  return Math.min(300, 2 ** Math.max(0, Math.min(attempts - 1, 9)));
}

/** What decides the content of one email: the recipient's language and preferences, or a contact's audience. */
interface RenderKey {
  subscriberId: string;
  locale: Locale;
  topics: readonly NoticeTopic[];
  regions: readonly string[];
  customerId?: string | null | undefined;
  audience?: DeliveryAudience | null | undefined;
}

/**
 * What a recipient is told depends only on the notice and their locale, topics, regions and cohort (a contact: its
 * audience): computed once per combination (a fan-out has thousands of recipients and a handful of combinations).
 */
const personalCache = new WeakMap<Notice, Map<string, PersonalNotice | undefined>>();
function personalNotice(notice: Notice, r: RenderKey): PersonalNotice | undefined {
  const cohort = r.audience?.cohort ?? undefined;
  const contactRegion = r.customerId ? (r.audience?.region ?? r.regions[0]) : undefined;
  const key = contactRegion
    ? `contact|${r.locale}|${contactRegion}|${cohort ?? ""}`
    : `${r.locale}|${[...r.topics].sort().join(",")}|${[...r.regions].sort().join(",")}|${cohort ?? ""}`;
  let perNotice = personalCache.get(notice);
  if (!perNotice) {
    perNotice = new Map();
    personalCache.set(notice, perNotice);
  }
  if (!perNotice.has(key)) {
    perNotice.set(
      key,
      contactRegion
        ? customerPersonalNotice(notice, { region: contactRegion, cohort }, r.locale)
        : noticeFor(notice, { id: r.subscriberId, locale: r.locale, topics: r.topics, regions: r.regions, cohort }),
    );
  }
  return perNotice.get(key);
}

async function renderFor(
  deps: FanoutDeps,
  notice: Notice,
  publicationId: number,
  row: RenderKey & { email: string },
  deadline: string,
): Promise<{ email: OutgoingEmail; rendered: RenderedEmail } | undefined> {
  const personal = personalNotice(notice, row);
  if (!personal) return undefined;
  const contact = Boolean(row.customerId);
  const { token } = await deps.manageToken(publicationId, row.subscriberId, contact);
  const region = personal.regions[0];
  const rendered = renderNotice({
    notice,
    personal,
    vendor: deps.vendor,
    baseUrl: deps.baseUrl,
    deadline,
    links: contact
      ? contactNoticeLinks(deps.baseUrl, row.locale, publicationId, token)
      : noticeLinks(deps.baseUrl, row.locale, publicationId, token),
    // DPA 5.5: a contact's notice links the permanent JSON of its own region and cohort.
    ...(contact && region && personal.cohort ? { audience: { region, cohort: personal.cohort } } : {}),
    recipient: contact ? "contact" : "subscriber",
  });
  return {
    rendered,
    email: {
      to: row.email,
      subject: rendered.subject,
      html: rendered.html,
      text: rendered.text,
      headers: rendered.headers,
      tags: deliveryTags(publicationId, row.subscriberId),
    },
  };
}

/** Emails rendered between two yields to the event loop (see sendClaimed). */
const RENDER_SLICE = 10;
const yieldToTimers = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

function groupByKey(rows: readonly OpenDelivery[]): Map<string | null, OpenDelivery[]> {
  const out = new Map<string | null, OpenDelivery[]>();
  for (const row of rows) out.set(row.batchKey, [...(out.get(row.batchKey) ?? []), row]);
  return out;
}

/** Waits for a turn to prepare (FanoutDeps.preparing); its release hands it on once, however often called. */
async function preparingTurn(deps: FanoutDeps): Promise<() => void> {
  const release = (await deps.preparing?.()) ?? (() => {});
  let done = false;
  return () => {
    if (!done) release();
    done = true;
  };
}

/** One provider call for the rows claimed under `batchKey`, and what it means for them. */
async function sendClaimed(
  deps: FanoutDeps,
  notice: Notice,
  message: FanoutMessage,
  batchKey: string,
  rows: OpenDelivery[],
  owner: string,
  attempts: number,
  /** The rows were claimed by this run, lease included until this time: no second write for it. */
  leasedUntilMs?: number,
): Promise<SendResult> {
  // The turn to prepare (FanoutDeps.preparing): taken for the rendering and the first call, handed on by the send
  // gate, taken again by a repeated call to serialise its body; `finally` hands it on whatever happens.
  const turn = { release: await preparingTurn(deps) };
  try {
    const emails: OutgoingEmail[] = [];
    const order: string[] = [];
    const sorted = [...rows].sort((a, b) => (a.subscriberId < b.subscriberId ? -1 : 1));
    for (const [i, row] of sorted.entries()) {
      // Rendering a batch takes tens of milliseconds: it yields now and then, so that another message waiting for its
      // send slot wakes on time instead of giving the slot up (rate.ts SLOT_LATENESS_MS).
      if (i > 0 && i % RENDER_SLICE === 0) await yieldToTimers();
      const { email, locale, topics, regions, deadline } = row;
      if (!email || !locale || !topics || !regions || !deadline) continue;
      const out = await renderFor(
        deps,
        notice,
        message.publicationId,
        { ...row, email, locale, topics, regions },
        deadline,
      );
      if (!out) continue;
      emails.push(out.email);
      order.push(row.subscriberId);
    }
    const now = () => deps.now().toISOString();
    if (emails.length === 0) {
      const ids = rows.map((r) => r.subscriberId);
      await deps.store.finish(message.publicationId, batchKey, ids, "dead", "nothing left to render", now(), {
        message,
        attempts,
      });
      return { kind: "rejected", status: 0, detail: "nothing left to render" };
    }
    const leaseMs = deps.sendLeaseMs ?? SEND_LEASE_MS;
    const held: SendResult = {
      kind: "held",
      retryAfterSeconds: Math.ceil(leaseMs / 1000),
      detail: "another consumer is sending this batch",
    };
    const claimedIds = rows.map((r) => r.subscriberId);
    let leaseUntil = leasedUntilMs ?? Number.NEGATIVE_INFINITY;
    const lease = async () => {
      const nowMs = deps.now().getTime();
      // Until half of it has run out, nobody else can hold it and it covers one more wait for a slot and one call:
      // renewing it would write every row of the batch again (README "Benchmarks").
      if (leaseUntil - nowMs > leaseMs / 2) return true;
      if (!(await deps.store.lease(message.publicationId, batchKey, claimedIds, owner, nowMs, nowMs + leaseMs))) {
        return false;
      }
      leaseUntil = nowMs + leaseMs;
      return true;
    };
    if (!(await lease())) return held;
    // The send slot comes last, inside the transport once the body is serialised: work done between the slot and the
    // call (a slow D1 write, serialising 1.5 MB, another consumer's rendering) would bunch calls together at the
    // provider. The lease is long enough to cover the wait for the slot.
    const call = async (): Promise<BatchOutcome> => {
      try {
        return await deps.sender.sendBatch(emails, batchKey, () => {
          turn.release();
          return deps.limiter.acquire();
        });
      } catch (err) {
        return { kind: "unknown", detail: `send failed: ${err instanceof Error ? err.message : String(err)}` };
      } finally {
        // Also when it failed before its gate.
        turn.release();
      }
    };
    const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    let outcome = await call();
    // A 429 sent nothing and an unknown outcome is settled by the same key: both are retried here, in the next send
    // slot, while this run holds the lease (IN_PLACE_RETRIES).
    for (let retry = 0; retry < IN_PLACE_RETRIES; retry++) {
      if (outcome.kind !== "rate-limited" && outcome.kind !== "unknown") break;
      const waitSeconds = outcome.retryAfterSeconds ?? 0;
      if (
        waitSeconds > IN_PLACE_MAX_WAIT_SECONDS ||
        (waitSeconds > 0 && deps.mayWaitInPlace?.(waitSeconds * 1000) === false)
      )
        break;
      if (waitSeconds > 0) await sleep(waitSeconds * 1000);
      // Renewed for one more call when due; lost only if it ran out and another consumer took it: that one sends the
      // key now.
      if (!(await lease())) return held;
      turn.release = await preparingTurn(deps);
      outcome = await call();
    }
    if (outcome.kind === "accepted") {
      const ids = new Map<string, string>();
      order.forEach((id, i) => {
        const messageId = outcome.kind === "accepted" ? outcome.messageIds[i] : undefined;
        if (messageId) ids.set(id, messageId);
      });
      await deps.store.sent(message.publicationId, batchKey, claimedIds, ids, now());
    } else if (outcome.kind === "key-conflict") {
      await deps.store.finish(
        message.publicationId,
        batchKey,
        claimedIds,
        "stuck",
        `already sent under this key with another body (${outcome.detail}): check the provider's log`,
        now(),
        { message, attempts },
      );
    } else if (outcome.kind === "rejected") {
      await deps.store.finish(
        message.publicationId,
        batchKey,
        claimedIds,
        "dead",
        `rejected (${outcome.status}): ${outcome.detail}`,
        now(),
        { message, attempts },
      );
    } else {
      await deps.store.attempted(message.publicationId, batchKey, claimedIds, outcome.detail, now());
    }
    return outcome;
  } finally {
    turn.release();
  }
}

/**
 * Processes one queue message. Never throws for provider trouble: it answers ack or retry (with the delay the
 * provider asked for). A storage failure throws, and the queue re-delivers the message; every step is safe to repeat.
 */
export async function processMessage(
  deps: FanoutDeps,
  message: FanoutMessage,
  attempts: number,
): Promise<MessageResult> {
  const { store } = deps;
  const pub = message.publicationId;
  const nowIso = () => deps.now().toISOString();
  const notice = await deps.notice(pub);
  const { open, live } = await store.openWithRecipients(pub, message.subscriberIds);
  const result = { sent: 0, suppressed: 0, dead: 0, stuck: 0 };
  // Identifies this run's send leases (see DeliveryStore.lease).
  const owner = crypto.randomUUID();

  // Rows claimed earlier (an attempt whose outcome we did not see): same key, same payload, or flag them.
  const inFlight = groupByKey(open.filter((r) => r.status === "sending"));
  const pending = open.filter((r) => r.status === "pending");

  let retryDelay: number | undefined;
  let retryReason = "";

  for (const [key, rows] of inFlight) {
    if (key === null) continue;
    const claimedAt = rows[0]?.claimedAt;
    if (claimedAt && isPastIdempotencyWindow(claimedAt, deps.now())) {
      await store.finish(
        pub,
        key,
        rows.map((r) => r.subscriberId),
        "stuck",
        "outcome unknown past the 24 h idempotency window: check with the provider before sending again",
        nowIso(),
        { message, attempts },
      );
      result.stuck += rows.length;
      continue;
    }
    const outcome = await sendClaimed(deps, notice, message, key, rows, owner, attempts);
    if (outcome.kind === "accepted") result.sent += rows.length;
    else if (outcome.kind === "rejected") {
      result.dead += rows.length;
    } else if (outcome.kind === "key-conflict") {
      result.stuck += rows.length;
    } else {
      retryDelay = Math.max(retryDelay ?? 0, outcome.retryAfterSeconds ?? backoffSeconds(attempts));
      retryReason = outcome.detail;
    }
  }

  if (pending.length > 0) {
    const skip = new Map<string, string[]>();
    const claimRows: ClaimRow[] = [];
    const claimedAt = nowIso();
    // DPA 5.3: counted from the moment the notice is handed over; the same for the whole batch.
    const deadline = objectionDeadline(
      new Date(claimedAt),
      deps.vendor.workingDayCalendar,
      deps.vendor.objectionWorkingDays,
    );
    for (const row of pending) {
      const s = live.get(row.subscriberId);
      // A contact's audience is the one frozen with the plan; a subscriber's cohort is the one stated now.
      const customerId = row.customerId ?? null;
      const audience: DeliveryAudience | null = customerId
        ? (row.audience ?? null)
        : s?.cohort !== undefined
          ? { cohort: s.cohort }
          : null;
      const recipient = s && {
        subscriberId: s.id,
        email: s.email,
        locale: s.locale,
        topics: s.topics,
        regions: s.regions,
        customerId,
        audience,
      };
      // An address that unsubscribes mid-fan-out gets nothing more (docs/architecture.md "Notices"): checked at send
      // time, not plan time. The same holds for a contact that unsubscribes, bounces, or whose contract ends.
      const reason = !s
        ? "erased"
        : s.status !== "confirmed"
          ? s.status
          : Boolean(s.customerId) !== Boolean(customerId)
            ? "erased"
            : recipient && personalNotice(notice, recipient)
              ? undefined
              : "preferences no longer cover this notice";
      if (reason || !recipient) {
        skip.set(reason ?? "erased", [...(skip.get(reason ?? "erased") ?? []), row.subscriberId]);
        continue;
      }
      const { hash } = await deps.manageToken(pub, recipient.subscriberId, Boolean(customerId));
      claimRows.push({
        ...recipient,
        deadline,
        manageTokenHash: hash,
        manageTokenStored: !customerId && s.noticeTokenHash === hash,
      });
    }
    for (const [reason, ids] of skip) {
      await store.suppress(pub, message.chunk, ids, reason, nowIso());
      result.suppressed += ids.length;
    }
    if (claimRows.length > 0) {
      const key = await batchIdempotencyKey(
        String(pub),
        message.chunk,
        claimRows.map((r) => r.subscriberId),
      );
      const untilMs = deps.now().getTime() + (deps.sendLeaseMs ?? SEND_LEASE_MS);
      const claimed = new Set(await store.claim(pub, message.chunk, claimRows, key, claimedAt, { owner, untilMs }));
      const rows: OpenDelivery[] = claimRows
        .filter((r) => claimed.has(r.subscriberId))
        .map((r) => ({ ...r, status: "sending", batchKey: key, claimedAt, attempts: 0 }));
      if (rows.length > 0) {
        const outcome = await sendClaimed(deps, notice, message, key, rows, owner, attempts, untilMs);
        if (outcome.kind === "accepted") result.sent += rows.length;
        else if (outcome.kind === "rejected") {
          result.dead += rows.length;
        } else if (outcome.kind === "key-conflict") {
          result.stuck += rows.length;
        } else {
          retryDelay = Math.max(retryDelay ?? 0, outcome.retryAfterSeconds ?? backoffSeconds(attempts));
          retryReason = outcome.detail;
        }
      }
      // Rows a concurrent consumer claimed first are that consumer's to send; a re-delivery picks them up if it fails.
      if (claimed.size < claimRows.length) {
        retryDelay = Math.max(retryDelay ?? 0, 1);
        retryReason = "another consumer holds part of this chunk";
      }
    }
  }

  if (retryDelay !== undefined && attempts >= deps.maxAttempts) {
    // Retries exhausted: what is still open is listed for the vendor, never silently dropped. A row never handed to
    // the provider is dead; a row whose call may have gone through is stuck: a person checks before sending again.
    const left = await store.open(pub, message.subscriberIds);
    for (const [key, rows] of groupByKey(left)) {
      const status = key === null ? "dead" : "stuck";
      const why =
        key === null
          ? `gave up after ${attempts} attempts: ${retryReason}`
          : `outcome unknown after ${attempts} attempts (${retryReason}): check the provider's log before sending again`;
      await store.finish(
        pub,
        key,
        rows.map((r) => r.subscriberId),
        status,
        why,
        nowIso(),
        { message, attempts },
      );
      if (status === "dead") result.dead += rows.length;
      else result.stuck += rows.length;
    }
    return { action: "ack", ...result };
  }
  if (retryDelay !== undefined) return { action: "retry", delaySeconds: Math.ceil(retryDelay), reason: retryReason };
  return { action: "ack", ...result };
}
