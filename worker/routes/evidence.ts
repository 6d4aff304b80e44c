import { type Context, Hono } from "hono";
import { z } from "zod";
import { evidenceCsv } from "../../domain/evidence.ts";
import { publicationEvidence } from "../evidence/publication-evidence.ts";
import { ApiError } from "../http/errors.ts";
import type { AppEnv } from "../http/types.ts";
import { problemHook } from "../http/validation.ts";
import { evidencePage } from "../pages/evidence.ts";
import { requireAdmin } from "./admin.ts";

// The evidence of one publication (README "Objections and evidence"), behind the admin token, as of the request or
// as of `?asOf=<ISO 8601 instant>` (an auditor's "what was the state on date X"; a moment later than now shows when
// consent will be deemed if nothing more happens): GET /api/admin/publications/{id}/evidence (JSON), /evidence.csv
// (a spreadsheet), /evidence.html (printable).

/** An instant with its offset (`2026-12-01T00:00:00Z`, `…T01:00:00+01:00`); a bare date would have no time zone. */
const EvidenceQuery = z
  .object({
    asOf: z.iso
      .datetime({ offset: true, error: "must be an ISO 8601 instant with its offset, e.g. 2026-12-01T00:00:00Z" })
      .transform((v) => new Date(v))
      .optional(),
  })
  .strict();

const evidence = new Hono<AppEnv>();
evidence.use("*", requireAdmin);

function load(c: Context<AppEnv>) {
  const id = Number(c.req.param("id"));
  if (!Number.isSafeInteger(id) || id < 1) throw new ApiError("not_found", "There is no such publication.");
  const query = EvidenceQuery.safeParse(c.req.query());
  problemHook(query);
  const asOf = query.data?.asOf;
  c.header("Cache-Control", "no-store");
  return publicationEvidence(c.env, id, asOf ?? new Date(), (work) => c.executionCtx.waitUntil(work), {
    alert: asOf === undefined,
  });
}

evidence.get("/:id{[0-9]+}/evidence", async (c) => c.json(await load(c)));

evidence.get("/:id{[0-9]+}/evidence.csv", async (c) => {
  const e = await load(c);
  return c.body(evidenceCsv(e), 200, {
    "Content-Type": "text/csv; charset=utf-8",
    "Content-Disposition": `attachment; filename="publication-${e.publication.id}-evidence.csv"`,
  });
});

evidence.get("/:id{[0-9]+}/evidence.html", async (c) => evidencePage(await load(c)));

export default evidence;
