import { Hono } from "hono";
import { z } from "zod";
import { OBJECTION_OUTCOMES, OBJECTION_STATES } from "../../domain/objection.ts";
import { LOCALES } from "../../domain/schema/common.ts";
import type { AppEnv } from "../http/types.ts";
import { acceptBody, multiLineText, oneLineText, validate } from "../http/validation.ts";
import { objectionDetail, objectionList, takeObjectionStep } from "../notices/objection-steps.ts";
import { requireAdmin } from "./admin.ts";

// Staff's view of objections and the steps they take (DPA 5.4; notices/objection-steps.ts), behind the admin token:
// GET /api/admin/objections[?publication=&customer=&state=&locale=], GET /api/admin/objections/{id} with its events,
// POST /api/admin/objections/{id}/events {state, outcome?, note, actor?}.

const ViewQuery = z.object({ locale: z.enum(LOCALES).default("en") });

const ListQuery = ViewQuery.extend({
  publication: z.coerce.number().int().positive().optional(),
  customer: oneLineText(64).optional(),
  state: z.enum(OBJECTION_STATES).optional(),
}).strict();

const StepBody = z
  .object({
    state: z.enum(OBJECTION_STATES, { error: `must be one of: ${OBJECTION_STATES.join(", ")}` }),
    outcome: z.enum(OBJECTION_OUTCOMES, { error: `must be one of: ${OBJECTION_OUTCOMES.join(", ")}` }).optional(),
    note: multiLineText(5000),
    actor: oneLineText(100).optional(),
  })
  .strict();

const objections = new Hono<AppEnv>();
objections.use("*", requireAdmin);
objections.use("*", async (c, next) => {
  await next();
  c.header("Cache-Control", "no-store");
});

objections.get("/", validate("query", ListQuery), async (c) => {
  const { locale, publication, customer, state } = c.req.valid("query");
  return c.json({
    objections: await objectionList(c.env, { publicationId: publication, customerId: customer, state }, locale),
  });
});

objections.get("/:id", validate("query", ViewQuery.strict()), async (c) => {
  return c.json(await objectionDetail(c.env, c.req.param("id"), c.req.valid("query").locale));
});

objections.post(
  "/:id/events",
  acceptBody({ forms: false }),
  validate("json", StepBody),
  validate("query", ViewQuery.strict()),
  async (c) => {
    const { state, outcome, note, actor } = c.req.valid("json");
    const view = await takeObjectionStep(
      c.env,
      c.req.param("id"),
      { state, outcome, note, actor: actor ?? "staff" },
      new Date(),
      (work) => c.executionCtx.waitUntil(work),
      c.req.valid("query").locale,
    );
    return c.json(view, 201);
  },
);

export default objections;
