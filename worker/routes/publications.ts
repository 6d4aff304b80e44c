import { Hono } from "hono";
import { PUBLICATIONS_FORMAT, type Publications, schemaPath } from "../../domain/schema/documents.ts";
import { listPublications } from "../db/publications.ts";
import { publicUrl } from "../env.ts";
import type { AppEnv } from "../http/types.ts";

// GET /api/publications: the public hash chain. Each publication names the fingerprint it replaced, so anyone holding
// an older /annex-c.json can check that no past version was rewritten. No addresses, only counts.
const publications = new Hono<AppEnv>();

publications.get("/", async (c) => {
  const rows = await listPublications(c.env.DB);
  c.header("Cache-Control", "no-store");
  return c.json({
    $schema: publicUrl(c.env, schemaPath(PUBLICATIONS_FORMAT)),
    format: PUBLICATIONS_FORMAT,
    publications: rows.map((p) => ({
      id: p.sequence,
      fingerprint: p.fingerprint,
      previousFingerprint: p.previousFingerprint,
      publishedAt: p.publishedAt,
      recipientCount: p.recipientCount,
      baseline: p.kind === "baseline",
    })),
  } satisfies Publications);
});

export default publications;
