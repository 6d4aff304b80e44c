import { isWithinObjectionWindow } from "./calendar.ts";
import type { IsoDate } from "./schema/common.ts";

// The life of an objection (DPA 5.3, 5.4). A customer objects within ten working days of receiving a notice (5.3);
// the vendor then proposes an alternative or the customer may end the affected service (5.4). Staff record each step;
// this module decides which steps are possible, so the worker never stores an impossible history.

export const OBJECTION_STATES = ["received", "alternative-proposed", "resolved"] as const;
export type ObjectionState = (typeof OBJECTION_STATES)[number];

/**
 * How a resolved objection ended: the customer withdrew it, accepted the alternative the vendor proposed
 * (DPA 5.4), or the contract (or the affected service) was terminated (DPA 5.4).
 */
export const OBJECTION_OUTCOMES = ["withdrawn", "alternative-accepted", "terminated"] as const;
export type ObjectionOutcome = (typeof OBJECTION_OUTCOMES)[number];

export interface ObjectionStatus {
  state: ObjectionState;
  /** Present exactly when `state` is `resolved`. */
  outcome?: ObjectionOutcome | undefined;
}

/** A step staff ask for: `POST /api/admin/objections/{id}/events {state, outcome?, note}`. */
export interface ObjectionStep {
  state: ObjectionState;
  outcome?: ObjectionOutcome | undefined;
  /** Why, in staff's words: the record an auditor reads. */
  note: string;
}

/** Why a step is refused; each reason is a name the API can show and a test can assert. */
export const TRANSITION_REFUSALS = {
  "already-resolved": "A resolved objection is closed; it takes no further step",
  "not-a-step": "An objection is received once, when the customer makes it; staff cannot move it back there",
  "outcome-required": "Resolving an objection needs an outcome: withdrawn, alternative-accepted or terminated",
  "outcome-not-allowed": "Only a resolution has an outcome",
  "no-alternative-proposed": "An alternative can be accepted only after one was proposed (DPA 5.4)",
  "note-required": "Every step carries a note saying why",
} as const;
export type TransitionRefusal = keyof typeof TRANSITION_REFUSALS;

export type TransitionResult =
  | { ok: true; status: ObjectionStatus }
  | { ok: false; reason: TransitionRefusal; detail: string };

function refuse(reason: TransitionRefusal): TransitionResult {
  return { ok: false, reason, detail: TRANSITION_REFUSALS[reason] };
}

/**
 * The status after `step`, or why the step is refused:
 * - received → alternative-proposed, or → resolved (withdrawn or terminated: no alternative was put forward);
 * - alternative-proposed → alternative-proposed (a revised alternative), or → resolved with any outcome;
 * - resolved is final.
 */
export function transitionObjection(current: ObjectionStatus, step: ObjectionStep): TransitionResult {
  if (current.state === "resolved") return refuse("already-resolved");
  if (step.note.trim() === "") return refuse("note-required");
  if (step.state === "received") return refuse("not-a-step");
  if (step.state !== "resolved") {
    if (step.outcome !== undefined) return refuse("outcome-not-allowed");
    return { ok: true, status: { state: step.state } };
  }
  if (step.outcome === undefined) return refuse("outcome-required");
  if (step.outcome === "alternative-accepted" && current.state !== "alternative-proposed") {
    return refuse("no-alternative-proposed");
  }
  return { ok: true, status: { state: "resolved", outcome: step.outcome } };
}

/**
 * The current status from the recorded steps, oldest first, starting from `received`. Throws on a history that
 * `transitionObjection` would have refused: stored steps passed it once, so a refusal here means corrupt data.
 */
export function objectionStatus(steps: readonly ObjectionStep[]): ObjectionStatus {
  let status: ObjectionStatus = { state: "received" };
  for (const [i, step] of steps.entries()) {
    const next = transitionObjection(status, step);
    if (!next.ok) throw new RangeError(`objection step ${i + 1} (${step.state}) is not possible: ${next.reason}`);
    status = next.status;
  }
  return status;
}

/**
 * DPA 5.3: an objection is on time until the end of the honoured deadline day in Copenhagen. A late objection is
 * still accepted and recorded, marked late, and the customer is told so.
 */
export function isLateObjection(objectedAt: Date, honouredDeadline: IsoDate): boolean {
  return !isWithinObjectionWindow(objectedAt, honouredDeadline);
}

/**
 * The changes an objection names, checked against those its customer's notice announced. Returns the ids in the
 * order of the notice, or the ids that notice does not have (an objection must name at least one change).
 */
export function objectedChanges(
  named: readonly string[],
  announced: readonly string[],
): { ok: true; changes: string[] } | { ok: false; unknown: string[] } {
  const known = new Set(announced);
  const unknown = [...new Set(named)].filter((id) => !known.has(id));
  if (unknown.length > 0 || named.length === 0) return { ok: false, unknown };
  const wanted = new Set(named);
  return { ok: true, changes: announced.filter((id) => wanted.has(id)) };
}
