import { Hono } from "hono";
import { ApiError, problemResponse } from "../http/errors.ts";
import type { AppEnv } from "../http/types.ts";
import { publishedReceiptKeys } from "../notices/receipt-key.ts";

// GET /.well-known/jwks.json: the public key objection receipts are signed with, and the keys retired by a rotation
// (RFC 7517), so anyone can verify a receipt offline, however old (README "Verifying an objection receipt"). Public and
// cacheable: it changes only with the secret and RECEIPT_RETIRED_PUBLIC_KEYS.

const wellKnown = new Hono<AppEnv>();

wellKnown.get("/jwks.json", async (c) => {
  let jwks: Awaited<ReturnType<typeof publishedReceiptKeys>>;
  try {
    jwks = await publishedReceiptKeys(c.env);
  } catch (err) {
    // A JOSE library reads this, not a person: problem+json, though the path is outside /api/.
    if (err instanceof ApiError) return problemResponse(err);
    throw err;
  }
  c.header("Cache-Control", "public, max-age=3600");
  c.header("Access-Control-Allow-Origin", "*");
  return c.json(jwks);
});

export default wellKnown;
