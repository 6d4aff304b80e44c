import { type Context, Hono } from "hono";
import { evidenceCsv } from "../../domain/evidence.ts";
import { publicationEvidence } from "../evidence/publication-evidence.ts";
import { ApiError } from "../http/errors.ts";
import type { AppEnv } from "../http/types.ts";
import { evidencePage } from "../pages/evidence.ts";
import { requireAdmin } from "./admin.ts";

// The evidence of one publication (README "Objections and evidence"), behind the admin token, as of the request:
// GET /api/admin/publications/{id}/evidence (JSON), /evidence.csv (a spreadsheet), /evidence.html (printable).

const evidence = new Hono<AppEnv>();
evidence.use("*", requireAdmin);

function load(c: Context<AppEnv>) {
  const id = Number(c.req.param("id"));
  if (!Number.isSafeInteger(id) || id < 1) throw new ApiError("not_found", "There is no such publication.");
  c.header("Cache-Control", "no-store");
  return publicationEvidence(c.env, id, new Date(), (work) => c.executionCtx.waitUntil(work));
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
