/**
 * /api/dev/outbox: the emails the outbox transport "sent", newest first. Exists only when
 * EMAIL_TRANSPORT=outbox (local development and tests); with `resend` every path here is a 404.
 */
import { Hono } from "hono";
import { z } from "zod";
import { clearOutbox, listOutbox } from "../db.ts";
import { ApiError } from "../errors.ts";
import type { AppEnv } from "../types.ts";
import { EmailAddress, validate } from "../validation.ts";

const OutboxQuery = z
  .object({
    to: EmailAddress.optional(),
    limit: z.coerce.number({ error: "must be a number" }).int().min(1).max(500).default(100),
  })
  .strict();

const dev = new Hono<AppEnv>();

dev.use("*", async (c, next) => {
  if (c.env.EMAIL_TRANSPORT !== "outbox") {
    throw new ApiError("not_found", "The development outbox exists only with EMAIL_TRANSPORT=outbox.");
  }
  await next();
});

dev.get("/outbox", validate("query", OutboxQuery), async (c) => {
  const { to, limit } = c.req.valid("query");
  c.header("Cache-Control", "no-store");
  return c.json(await listOutbox(c.env.DB, to ? { to, limit } : { limit }));
});

dev.delete("/outbox", async (c) => {
  await clearOutbox(c.env.DB);
  return c.body(null, 204);
});

export default dev;
