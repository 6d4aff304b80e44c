import { formatDate } from "../../domain/labels.ts";
import { chunk, RESEND_BATCH_LIMIT } from "../../domain/notice.ts";
import {
  type ObjectionOutcome,
  type ObjectionState,
  type ObjectionStep,
  transitionObjection,
} from "../../domain/objection.ts";
import type { Locale } from "../../domain/schema/common.ts";
import { copenhagenInstant, renderObjectionStep } from "../../emails/objection-steps.ts";
import {
  type AnnouncedChange,
  activeContacts,
  announcedChanges,
  appendObjectionEvent,
  listObjections,
  type ObjectionEvent,
  type ObjectionFilter,
  type ObjectionRow,
  objectionWithEvents,
} from "../db/objections.ts";
import { sendAndLog } from "../email/port.ts";
import { emailTransport } from "../email/transport.ts";
import { DEFAULT_LOCALE, vendor } from "../env.ts";
import { ApiError } from "../http/errors.ts";

// What staff do with an objection (DPA 5.4: after an objection the vendor proposes an alternative, or the agreement
// or the affected service ends): each step goes through domain/objection.ts (an impossible step is a 409 naming its
// reason), is recorded in objection_events with its time and actor, and is mailed to every active contact of the
// customer. Free of HTTP: routes/admin-objections.ts parses and answers.

/** An objection as staff see it, with the changes it names and times written for `locale` on the Copenhagen clock. */
export interface ObjectionView {
  id: string;
  publication: number;
  customer: string | null;
  organisation: string;
  email: string;
  reason: string;
  changes: (AnnouncedChange & { effectiveText: string; summaryText: string })[];
  receivedAt: string;
  receivedAtText: string;
  deadline: string;
  late: boolean;
  state: ObjectionState;
  outcome: ObjectionOutcome | null;
  receipt: string | null;
  events?: (ObjectionEvent & { atText: string })[];
}

type ChangesOf = (publicationId: number) => Promise<AnnouncedChange[]>;

/** Announced changes per publication, read once per request however many objections name them. */
function changesReader(db: D1Database): ChangesOf {
  const cache = new Map<number, Promise<AnnouncedChange[]>>();
  return (id) => {
    let changes = cache.get(id);
    if (!changes) {
      changes = announcedChanges(db, id);
      cache.set(id, changes);
    }
    return changes;
  };
}

async function view(
  o: ObjectionRow,
  changesOf: ChangesOf,
  locale: Locale,
  events?: ObjectionEvent[],
): Promise<ObjectionView> {
  const announced = await changesOf(o.publicationId);
  const named = new Set(o.changes);
  return {
    id: o.id,
    publication: o.publicationId,
    customer: o.customerId,
    organisation: o.organisation,
    email: o.email,
    reason: o.reason,
    changes: announced
      .filter((c) => named.has(c.id))
      .map((c) => ({ ...c, effectiveText: formatDate(c.effective, locale), summaryText: c.summary[locale] })),
    receivedAt: o.createdAt,
    receivedAtText: copenhagenInstant(o.createdAt, locale),
    deadline: o.deadline,
    late: o.late,
    state: o.state,
    outcome: o.outcome,
    receipt: o.receipt,
    ...(events ? { events: events.map((e) => ({ ...e, atText: copenhagenInstant(e.createdAt, locale) })) } : {}),
  };
}

export async function objectionList(env: Env, filter: ObjectionFilter, locale: Locale): Promise<ObjectionView[]> {
  const changesOf = changesReader(env.DB);
  return Promise.all((await listObjections(env.DB, filter)).map((o) => view(o, changesOf, locale)));
}

export async function objectionDetail(env: Env, id: string, locale: Locale): Promise<ObjectionView> {
  const found = await objectionWithEvents(env.DB, id);
  if (!found) throw new ApiError("not_found", `There is no objection ${id}.`);
  return view(found.objection, changesReader(env.DB), locale, found.events);
}

export interface StaffStep extends ObjectionStep {
  /** Who took the step, as staff name themselves with the admin token. */
  actor: string;
}

/**
 * Takes one step on an objection. The step is judged against the state stored with the events read, and written only
 * if no other step was recorded meanwhile (409 otherwise, so staff look again before repeating it).
 */
export async function takeObjectionStep(
  env: Env,
  id: string,
  step: StaffStep,
  now: Date,
  defer: (work: Promise<unknown>) => void,
  locale: Locale,
): Promise<ObjectionView> {
  const found = await objectionWithEvents(env.DB, id);
  if (!found) throw new ApiError("not_found", `There is no objection ${id}.`);
  const { objection, events } = found;
  const current = { state: objection.state, outcome: objection.outcome ?? undefined };
  const next = transitionObjection(current, step);
  if (!next.ok) {
    throw new ApiError(
      "conflict",
      `${next.reason}: ${next.detail} (objection ${id} is ${objection.state}${objection.outcome ? `, ${objection.outcome}` : ""}).`,
      { issues: [{ path: "state", message: next.reason }] },
    );
  }
  const at = now.toISOString();
  const eventId = await appendObjectionEvent(env.DB, id, events.length, {
    state: next.status.state,
    outcome: next.status.outcome ?? null,
    note: step.note,
    actor: step.actor,
    at,
  });
  if (eventId === null) {
    throw new ApiError("conflict", `Another step was recorded on objection ${id} meanwhile; read it again first.`);
  }

  const changesOf = changesReader(env.DB);
  const announced = await changesOf(objection.publicationId);
  const changes = announced.filter((c) => objection.changes.includes(c.id));
  // A customer's objection concerns the customer: every contact it keeps is told. A subscriber's, the address it came from.
  const recipients = objection.customerId
    ? await activeContacts(env.DB, objection.customerId)
    : [{ email: objection.email, locale: DEFAULT_LOCALE }];
  const messages = recipients.map((r) => ({
    to: r.email,
    ...renderObjectionStep({
      locale: r.locale,
      vendor,
      objectionId: id,
      customerName: objection.organisation,
      publicationId: String(objection.publicationId),
      changes,
      state: next.status.state,
      outcome: next.status.outcome,
      note: step.note,
      at,
    }),
  }));
  const transport = emailTransport(env);
  defer(
    Promise.all(
      chunk(messages, RESEND_BATCH_LIMIT).map((batch, i) =>
        sendAndLog(transport, batch, "objection step", { idempotencyKey: `objection/${id}/event/${eventId}/${i}` }),
      ),
    ),
  );
  const updated = await objectionWithEvents(env.DB, id);
  if (!updated) throw new ApiError("not_found", `There is no objection ${id}.`);
  return view(updated.objection, changesOf, locale, updated.events);
}
