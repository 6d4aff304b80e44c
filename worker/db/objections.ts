/**
 * The `objections` and `objection_events` tables (migrations/0002_notices.sql, 0005_customers.sql): objections to a
 * notice (DPA 5.3) and every step staff take on them (DPA 5.4), each with its time and actor. The first event of a
 * customer's objection is its receipt (`received`, actor `customer`); the current state is also kept on the row, and
 * a step is written only against the event count it was decided on, so two staff steps at once never both apply.
 */
import type { ObjectionOutcome, ObjectionState } from "../../domain/objection.ts";
import type { Locale, Localized } from "../../domain/schema/common.ts";

export interface ObjectionRow {
  id: string;
  publicationId: number;
  /** The recipient id of the notice: a subscriber's id, or a customer contact's id. */
  subscriberId: string;
  email: string;
  organisation: string;
  reason: string;
  deadline: string;
  createdAt: string;
  /** The customer's externalId; null for a self-subscriber's objection. */
  customerId: string | null;
  /** Ids of the changes objected to, in the order of the notice. */
  changes: string[];
  state: ObjectionState;
  outcome: ObjectionOutcome | null;
  late: boolean;
  /** Compact JWS of the signed receipt (customers' objections). */
  receipt: string | null;
}

export interface ObjectionEvent {
  id: number;
  state: ObjectionState;
  outcome: ObjectionOutcome | null;
  note: string;
  actor: string;
  createdAt: string;
}

interface RawObjection {
  id: string;
  publication_id: number;
  subscriber_id: string;
  email: string;
  organisation: string;
  reason: string;
  deadline: string;
  created_at: string;
  customer_id: string | null;
  changes: string | null;
  state: ObjectionState;
  outcome: ObjectionOutcome | null;
  late: number;
  receipt: string | null;
}

const OBJECTION_COLUMNS =
  "id, publication_id, subscriber_id, email, organisation, reason, deadline, created_at, customer_id, changes, " +
  "state, outcome, late, receipt";

function toObjection(r: RawObjection): ObjectionRow {
  return {
    id: r.id,
    publicationId: r.publication_id,
    subscriberId: r.subscriber_id,
    email: r.email,
    organisation: r.organisation,
    reason: r.reason,
    deadline: r.deadline,
    createdAt: r.created_at,
    customerId: r.customer_id,
    changes: r.changes ? (JSON.parse(r.changes) as string[]) : [],
    state: r.state,
    outcome: r.outcome,
    late: r.late === 1,
    receipt: r.receipt,
  };
}

/** Records an objection together with its first event, the receipt (one transaction). */
export async function insertObjection(
  db: D1Database,
  o: ObjectionRow,
  received: { note: string; actor: string },
): Promise<void> {
  await db.batch([
    db
      .prepare(
        `INSERT INTO objections (${OBJECTION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)`,
      )
      .bind(
        o.id,
        o.publicationId,
        o.subscriberId,
        o.email,
        o.organisation,
        o.reason,
        o.deadline,
        o.createdAt,
        o.customerId,
        JSON.stringify(o.changes),
        o.state,
        o.outcome,
        o.late ? 1 : 0,
        o.receipt,
      ),
    db
      .prepare(
        "INSERT INTO objection_events (objection_id, state, outcome, note, actor, created_at) " +
          "VALUES (?1, 'received', NULL, ?2, ?3, ?4)",
      )
      .bind(o.id, received.note, received.actor, o.createdAt),
  ]);
}

export async function objectionCounts(db: D1Database): Promise<Map<number, number>> {
  const { results } = await db
    .prepare("SELECT publication_id, COUNT(*) AS n FROM objections GROUP BY publication_id")
    .all<{ publication_id: number; n: number }>();
  return new Map(results.map((r) => [r.publication_id, r.n]));
}

export interface ObjectionFilter {
  publicationId?: number | undefined;
  customerId?: string | undefined;
  state?: ObjectionState | undefined;
}

/** Objections, newest first, optionally of one publication, customer or state. */
export async function listObjections(db: D1Database, filter: ObjectionFilter = {}): Promise<ObjectionRow[]> {
  const { results } = await db
    .prepare(
      `SELECT ${OBJECTION_COLUMNS} FROM objections WHERE (?1 IS NULL OR publication_id = ?1) ` +
        "AND (?2 IS NULL OR customer_id = ?2) AND (?3 IS NULL OR state = ?3) ORDER BY created_at DESC, id",
    )
    .bind(filter.publicationId ?? null, filter.customerId ?? null, filter.state ?? null)
    .all<RawObjection>();
  return results.map(toObjection);
}

/** Every objection a recipient (subscriber or contact) made, oldest first: the GDPR export. */
export async function objectionsOfRecipient(db: D1Database, recipientId: string): Promise<ObjectionRow[]> {
  const { results } = await db
    .prepare(`SELECT ${OBJECTION_COLUMNS} FROM objections WHERE subscriber_id = ?1 ORDER BY created_at, id`)
    .bind(recipientId)
    .all<RawObjection>();
  return results.map(toObjection);
}

/** One objection with its events, oldest first; null for an unknown id. */
export async function objectionWithEvents(
  db: D1Database,
  id: string,
): Promise<{ objection: ObjectionRow; events: ObjectionEvent[] } | null> {
  const [row, events] = await Promise.all([
    db.prepare(`SELECT ${OBJECTION_COLUMNS} FROM objections WHERE id = ?1`).bind(id).first<RawObjection>(),
    db
      .prepare(
        "SELECT id, state, outcome, note, actor, created_at FROM objection_events WHERE objection_id = ?1 ORDER BY id",
      )
      .bind(id)
      .all<Omit<ObjectionEvent, "createdAt"> & { created_at: string }>(),
  ]);
  if (!row) return null;
  return {
    objection: toObjection(row),
    events: events.results.map(({ created_at, ...e }) => ({ ...e, createdAt: created_at })),
  };
}

/**
 * Records a step staff took: the row's state and the event, in one transaction, only if the objection still has the
 * `seenEvents` events the step was decided on. Returns the new event's id, or null when another step came first.
 */
export async function appendObjectionEvent(
  db: D1Database,
  id: string,
  seenEvents: number,
  step: { state: ObjectionState; outcome: ObjectionOutcome | null; note: string; actor: string; at: string },
): Promise<number | null> {
  const unchanged = "(SELECT COUNT(*) FROM objection_events WHERE objection_id = ?1) = ?2";
  const [, inserted] = await db.batch<{ id: number }>([
    db
      .prepare(`UPDATE objections SET state = ?3, outcome = ?4 WHERE id = ?1 AND ${unchanged}`)
      .bind(id, seenEvents, step.state, step.outcome),
    db
      .prepare(
        "INSERT INTO objection_events (objection_id, state, outcome, note, actor, created_at) " +
          `SELECT ?1, ?3, ?4, ?5, ?6, ?7 WHERE ${unchanged} RETURNING id`,
      )
      .bind(id, seenEvents, step.state, step.outcome, step.note, step.actor, step.at),
  ]);
  return inserted?.results[0]?.id ?? null;
}

export interface AnnouncedChange {
  id: string;
  effective: string;
  kind: string;
  summary: Localized;
}

/**
 * The changes publication `publicationId` announced, in its order, with their effective dates and summaries: read
 * from the document the publication recorded, so they are the words the notice carried.
 */
export async function announcedChanges(db: D1Database, publicationId: number): Promise<AnnouncedChange[]> {
  const { results } = await db
    .prepare(
      "SELECT json_extract(c.value, '$.id') AS id, json_extract(c.value, '$.effective') AS effective, " +
        "json_extract(c.value, '$.kind') AS kind, json_extract(c.value, '$.summary') AS summary " +
        "FROM publications p, json_each(p.announced) a, json_each(p.document, '$.changes') c " +
        "WHERE p.sequence = ?1 AND json_extract(c.value, '$.id') = a.value ORDER BY a.key",
    )
    .bind(publicationId)
    .all<{ id: string; effective: string; kind: string; summary: string }>();
  return results.map((r) => ({ ...r, summary: JSON.parse(r.summary) as Localized }));
}

/** The deliveries of one notice to a customer's contacts: its objection window counts from them. */
export async function customerDeliveries(
  db: D1Database,
  publicationId: number,
  customerId: string,
): Promise<
  {
    status: string;
    claimedAt: string | null;
    sentAt: string | null;
    deadline: string | null;
    honouredDeadline: string | null;
  }[]
> {
  const { results } = await db
    .prepare(
      "SELECT status, claimed_at, sent_at, deadline, honoured_deadline FROM deliveries " +
        "WHERE publication_id = ?1 AND customer_id = ?2",
    )
    .bind(publicationId, customerId)
    .all<{
      status: string;
      claimed_at: string | null;
      sent_at: string | null;
      deadline: string | null;
      honoured_deadline: string | null;
    }>();
  return results.map((r) => ({
    status: r.status,
    claimedAt: r.claimed_at,
    sentAt: r.sent_at,
    deadline: r.deadline,
    honouredDeadline: r.honoured_deadline,
  }));
}

/** The contacts of a customer that are written to (status active), with the language each reads. */
export async function activeContacts(db: D1Database, customerId: string): Promise<{ email: string; locale: Locale }[]> {
  const { results } = await db
    .prepare(
      "SELECT k.email, COALESCE(k.locale, c.locale) AS locale FROM customer_contacts k " +
        "JOIN customers c ON c.external_id = k.customer_id WHERE k.customer_id = ?1 AND k.status = 'active' ORDER BY k.email",
    )
    .bind(customerId)
    .all<{ email: string; locale: Locale }>();
  return results;
}
