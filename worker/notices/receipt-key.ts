import {
  importReceiptKey,
  type PrivateJwk,
  type PublicJwk,
  type ReceiptSigningKey,
  receiptJwks,
  retiredReceiptKeys,
} from "../../domain/objection-receipt.ts";
import { ApiError } from "../http/errors.ts";

// The key that signs objection receipts (DPA 5.3; README "Verifying an objection receipt"): an Ed25519 private JWK in
// the secret RECEIPT_SIGNING_KEY. Imported once per isolate and secret value: importing costs a WebCrypto call, and
// a rotated secret arrives with a new isolate anyway.

let cached: { source: string; key: Promise<ReceiptSigningKey> } | undefined;

/** The signing key, or 503 when the secret is missing or not an Ed25519 private JWK (a deployment fault). */
export async function receiptKey(env: Env): Promise<ReceiptSigningKey> {
  const source = env.RECEIPT_SIGNING_KEY;
  if (cached?.source !== source) {
    cached = {
      source,
      key: (async () => importReceiptKey(JSON.parse(source ?? "") as PrivateJwk))(),
    };
  }
  try {
    return await cached.key;
  } catch {
    cached = undefined;
    // Never the error itself: a JSON parse error quotes the text it failed on, which is the secret.
    console.error("RECEIPT_SIGNING_KEY is not an Ed25519 private JWK {kty: OKP, crv: Ed25519, x, d}");
    throw new ApiError(
      "upstream_unavailable",
      "Objection receipts cannot be signed right now; please try again later or write to the vendor's privacy contact.",
    );
  }
}

let cachedRetired: { source: string | undefined; keys: Promise<PublicJwk[]> } | undefined;

/**
 * The JWKS of /.well-known/jwks.json: the current key first, then every retired one (RECEIPT_RETIRED_PUBLIC_KEYS), each
 * once: during a rotation the retired list may already name the key still signing. 503 when either is misconfigured:
 * a JWKS without the retired keys would make the receipts they signed look forged.
 */
export async function publishedReceiptKeys(env: Env): Promise<{ keys: PublicJwk[] }> {
  const current = await receiptKey(env);
  const source = env.RECEIPT_RETIRED_PUBLIC_KEYS;
  if (cachedRetired?.source !== source) cachedRetired = { source, keys: retiredReceiptKeys(source) };
  let retired: PublicJwk[];
  try {
    retired = await cachedRetired.keys;
  } catch (err) {
    cachedRetired = undefined;
    // The list is public (no secret to leak): the message names the entry and the rule.
    console.error(err instanceof Error ? err.message : "RECEIPT_RETIRED_PUBLIC_KEYS cannot be read");
    throw new ApiError(
      "upstream_unavailable",
      "The receipt keys cannot be published right now; please try again later.",
    );
  }
  return receiptJwks([current, ...retired.filter((k) => k.kid !== current.kid).map((publicJwk) => ({ publicJwk }))]);
}
