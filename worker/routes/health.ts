import { Hono } from "hono";
import pkg from "../../package.json" with { type: "json" };
import { unfinishedFanouts } from "../db/publications.ts";
import type { AppEnv } from "../http/types.ts";
import { readDeployedAnnexC } from "../notices/deployed.ts";

/** The fingerprint of the deployed `/annex-c.json`; null when the site has not been built with one (or it cannot be read). */
async function deployedFingerprint(env: Env, requestUrl: string): Promise<string | null> {
  try {
    const deployed = await readDeployedAnnexC(env, requestUrl);
    const body = deployed.found ? deployed.document : null;
    if (body && typeof body === "object" && "fingerprint" in body && typeof body.fingerprint === "string") {
      return body.fingerprint;
    }
    return null;
  } catch {
    return null;
  }
}

const health = new Hono<AppEnv>();

/**
 * Change-notice fan-outs not complete as of the last publish check (cron every 15 minutes), and those flagged stalled
 * (notices/recovery.ts). Publication ids only, no addresses; null when the database cannot be read.
 */
async function fanoutHealth(db: D1Database): Promise<{ incomplete: number; stalled: number[] } | null> {
  try {
    const unfinished = await unfinishedFanouts(db);
    return {
      incomplete: unfinished.length,
      stalled: unfinished.filter((p) => p.stalledAt !== null).map((p) => p.sequence),
    };
  } catch {
    return null;
  }
}

health.get("/", async (c) => {
  const [fingerprint, fanout] = await Promise.all([deployedFingerprint(c.env, c.req.url), fanoutHealth(c.env.DB)]);
  c.header("Cache-Control", "no-store");
  return c.json({ status: "ok", version: pkg.version, fingerprint, fanout });
});

export default health;
