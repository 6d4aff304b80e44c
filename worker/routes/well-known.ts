import { Hono } from "hono";
import { receiptJwks } from "../../domain/objection-receipt.ts";
import { ApiError, problemResponse } from "../http/errors.ts";
import type { AppEnv } from "../http/types.ts";
import { receiptKey } from "../notices/receipt-key.ts";

// GET /.well-known/jwks.json: the public key objection receipts are signed with (RFC 7517), so anyone can verify a
// receipt offline (README "Verifying an objection receipt"). Public and cacheable: it changes only with the secret.

const wellKnown = new Hono<AppEnv>();

wellKnown.get("/jwks.json", async (c) => {
  let key: Awaited<ReturnType<typeof receiptKey>>;
  try {
    key = await receiptKey(c.env);
  } catch (err) {
    // A JOSE library reads this, not a person: problem+json, though the path is outside /api/.
    if (err instanceof ApiError) return problemResponse(err);
    throw err;
  }
  const jwks = receiptJwks([key]);
  c.header("Cache-Control", "public, max-age=3600");
  c.header("Access-Control-Allow-Origin", "*");
  return c.json(jwks);
});

export default wellKnown;
