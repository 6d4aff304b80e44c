import { importReceiptKey, type PrivateJwk, type ReceiptSigningKey } from "../../domain/objection-receipt.ts";
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
