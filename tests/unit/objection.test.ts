import { describe, expect, it } from "vitest";
import {
  isLateObjection,
  OBJECTION_OUTCOMES,
  OBJECTION_STATES,
  type ObjectionStatus,
  objectedChanges,
  objectionStatus,
  transitionObjection,
} from "../../domain/objection.ts";

const note = "called the DPO";
const received: ObjectionStatus = { state: "received" };
const proposed: ObjectionStatus = { state: "alternative-proposed" };

describe("objection lifecycle (DPA 5.4)", () => {
  it("moves received → alternative-proposed → resolved with the alternative accepted", () => {
    const steps = [
      { state: "alternative-proposed" as const, note: "offered AWS Frankfurt instead" },
      { state: "resolved" as const, outcome: "alternative-accepted" as const, note: "accepted by email" },
    ];
    expect(objectionStatus(steps)).toEqual({ state: "resolved", outcome: "alternative-accepted" });
  });

  it("lets a received objection be withdrawn or end in termination without an alternative", () => {
    for (const outcome of ["withdrawn", "terminated"] as const) {
      expect(transitionObjection(received, { state: "resolved", outcome, note })).toEqual({
        ok: true,
        status: { state: "resolved", outcome },
      });
    }
  });

  it("allows a revised alternative", () => {
    expect(transitionObjection(proposed, { state: "alternative-proposed", note })).toEqual({
      ok: true,
      status: proposed,
    });
  });

  it("refuses every step out of a resolved objection, whatever the step", () => {
    for (const outcome of OBJECTION_OUTCOMES) {
      for (const state of OBJECTION_STATES) {
        const result = transitionObjection({ state: "resolved", outcome }, { state, outcome: "withdrawn", note });
        expect(result).toMatchObject({ ok: false, reason: "already-resolved" });
      }
    }
  });

  it("names the reason of each illegal step", () => {
    expect(transitionObjection(received, { state: "resolved", outcome: "alternative-accepted", note })).toMatchObject({
      ok: false,
      reason: "no-alternative-proposed",
    });
    expect(transitionObjection(proposed, { state: "resolved", note })).toMatchObject({ reason: "outcome-required" });
    expect(transitionObjection(received, { state: "alternative-proposed", outcome: "withdrawn", note })).toMatchObject({
      reason: "outcome-not-allowed",
    });
    expect(transitionObjection(proposed, { state: "received", note })).toMatchObject({ reason: "not-a-step" });
    expect(transitionObjection(received, { state: "alternative-proposed", note: "  " })).toMatchObject({
      reason: "note-required",
    });
  });

  it("refuses to replay a history that skips the proposal", () => {
    expect(() => objectionStatus([{ state: "resolved", outcome: "alternative-accepted", note }])).toThrow(
      /no-alternative-proposed/,
    );
  });
});

describe("late objection (DPA 5.3)", () => {
  it("is on time through the deadline day in Copenhagen, late from midnight there", () => {
    // 2026-04-16 is in summer time: the day ends at 21:59:59 UTC.
    expect(isLateObjection(new Date("2026-04-16T21:59:59Z"), "2026-04-16")).toBe(false);
    expect(isLateObjection(new Date("2026-04-16T22:00:00Z"), "2026-04-16")).toBe(true);
  });
});

describe("objected changes", () => {
  it("keeps the notice's order and refuses a change the notice did not announce", () => {
    expect(objectedChanges(["b", "a", "a"], ["a", "b", "c"])).toEqual({ ok: true, changes: ["a", "b"] });
    expect(objectedChanges(["a", "zz"], ["a", "b"])).toEqual({ ok: false, unknown: ["zz"] });
    expect(objectedChanges([], ["a"])).toEqual({ ok: false, unknown: [] });
  });
});
