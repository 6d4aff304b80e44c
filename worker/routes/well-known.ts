import { Hono } from "hono";
import { receiptJwks } from "../../domain/objection-receipt.ts";
import type { AppEnv } from "../http/types.ts";
import { receiptKey } from "../notices/receipt-key.ts";

// GET /.well-known/jwks.json: the public key objection receipts are signed with (RFC 7517), so anyone can verify a
// receipt offline (README "Verifying an objection receipt"). Public and cacheable: it changes only with the secret.

const wellKnown = new Hono<AppEnv>();

wellKnown.get("/jwks.json", async (c) => {
  const jwks = receiptJwks([await receiptKey(c.env)]);
  c.header("Cache-Control", "public, max-age=3600");
  c.header("Access-Control-Allow-Origin", "*");
  return c.json(jwks);
});

export default wellKnown;
