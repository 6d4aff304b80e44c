/**
 * The one reader of the deployed `/annex-c.json` (the site's canonical Annex C export with its SHA-256 fingerprint),
 * read through the ASSETS binding: the same bytes the site serves. The publish check compares it with the last
 * publication (notices/publish.ts); GET /api/health shows its fingerprint (routes/health.ts).
 */
export const ANNEX_C_PATH = "/annex-c.json";

export type Deployed = { found: true; document: unknown } | { found: false; status: number };

/** The parsed document, or the HTTP status when the site was built without one. Throws on unreadable JSON. */
export async function readDeployedAnnexC(env: Pick<Env, "ASSETS">, origin: string): Promise<Deployed> {
  const res = await env.ASSETS.fetch(new Request(new URL(ANNEX_C_PATH, origin)));
  if (!res.ok) {
    await res.body?.cancel();
    return { found: false, status: res.status };
  }
  return { found: true, document: await res.json() };
}
