/**
 * /api/dev/outbox: the emails the outbox transport "sent", newest first. It lists every token those emails carry, so
 * it exists only on a development machine: EMAIL_TRANSPORT=outbox (the wrangler.toml default) AND a PUBLIC_BASE_URL
 * on the loopback interface. A deploy that forgot the transport variable still answers 404 here (and the deploy
 * workflow refuses the outbox transport anyway: scripts/check-deploy-config.ts).
 */
import { Hono } from "hono";
import { z } from "zod";
import { EmailAddress } from "../../domain/email.ts";
import { isLoopbackUrl } from "../../domain/urls.ts";
import { clearOutbox, listOutbox } from "../db/outbox.ts";
import { ApiError } from "../http/errors.ts";
import type { AppEnv } from "../http/types.ts";
import { validate } from "../http/validation.ts";

const OutboxQuery = z
  .object({
    to: EmailAddress.optional(),
    limit: z.coerce.number({ error: "must be a number" }).int().min(1).max(500).default(100),
  })
  .strict();

const dev = new Hono<AppEnv>();

dev.use("*", async (c, next) => {
  if (c.env.EMAIL_TRANSPORT !== "outbox" || !isLoopbackUrl(c.env.PUBLIC_BASE_URL)) {
    throw new ApiError(
      "not_found",
      "The development outbox exists only with EMAIL_TRANSPORT=outbox on a loopback PUBLIC_BASE_URL.",
    );
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
