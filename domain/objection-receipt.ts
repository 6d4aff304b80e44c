import { isWithinObjectionWindow } from "./calendar.ts";
import { base64url, canonicalJson, fromBase64url } from "./canonical.ts";
import type { IsoDate } from "./schema/common.ts";

// The receipt of an objection (DPA 5.3), signed so that a customer can prove later, to anyone and without asking the
// vendor, what it objected to and when: a JWS (RFC 7515, compact serialisation) signed with EdDSA over Ed25519
// (RFC 8037), verifiable against the public key the portal publishes as a JWKS (RFC 7517) at /.well-known/jwks.json.
// WebCrypto only (Node and workerd alike); the key is passed in, nothing here reads a secret or the clock.

/** What a receipt proves. `receivedAt` is when the portal took the objection; `onTime` is judged against `deadline`. */
export interface ObjectionReceipt {
  /** Publication id. */
  publication: string;
  /** Fingerprint of the Annex C the objection is about. */
  fingerprint: string;
  /** The customer's externalId. */
  customer: string;
  /** Ids of the changes objected to, in the order of the notice. */
  changes: string[];
  /** ISO 8601 instant. */
  receivedAt: string;
  /** The honoured deadline (DPA 5.3, Copenhagen day, inclusive). */
  deadline: IsoDate;
  onTime: boolean;
}

/** The receipt of an objection taken at `receivedAt`; on time while it is still the deadline day in Copenhagen. */
export function objectionReceipt(input: {
  publication: { id: string; fingerprint: string };
  customer: string;
  changes: readonly string[];
  receivedAt: Date;
  deadline: IsoDate;
}): ObjectionReceipt {
  return {
    publication: input.publication.id,
    fingerprint: input.publication.fingerprint,
    customer: input.customer,
    changes: [...input.changes],
    receivedAt: input.receivedAt.toISOString(),
    deadline: input.deadline,
    onTime: isWithinObjectionWindow(input.receivedAt, input.deadline),
  };
}

/** A public signing key as RFC 7517 and RFC 8037 write it in a JWKS. */
export interface PublicJwk {
  kty: "OKP";
  crv: "Ed25519";
  x: string;
  kid: string;
  alg: "EdDSA";
  use: "sig";
}

export interface ReceiptSigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: PublicJwk;
}

/** An Ed25519 private key as a JWK ({kty: OKP, crv: Ed25519, x, d}), the form the worker's secret holds. */
export interface PrivateJwk {
  kty: "OKP";
  crv: "Ed25519";
  x: string;
  d: string;
}

const ED25519 = { name: "Ed25519" } as const;
const encoder = new TextEncoder();

/** RFC 7638 JWK thumbprint (SHA-256, base64url) of an Ed25519 public key: a key id anyone can recompute. */
export async function jwkThumbprint(jwk: { crv: "Ed25519"; kty: "OKP"; x: string }): Promise<string> {
  // RFC 8037 §2: the required members of an OKP key are crv, kty and x, in that (lexicographic) order.
  const members = canonicalJson({ crv: jwk.crv, kty: jwk.kty, x: jwk.x });
  return base64url(new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(members))));
}

/** A new Ed25519 key pair as a private JWK (for `wrangler secret put` and for tests). */
export async function generateReceiptKey(): Promise<PrivateJwk> {
  const pair = (await crypto.subtle.generateKey(ED25519, true, ["sign", "verify"])) as CryptoKeyPair;
  const jwk = (await crypto.subtle.exportKey("jwk", pair.privateKey)) as JsonWebKey;
  if (!jwk.x || !jwk.d) throw new Error("the runtime exported an Ed25519 key without x or d");
  return { kty: "OKP", crv: "Ed25519", x: jwk.x, d: jwk.d };
}

/** The signing key from its private JWK; its kid is the key's RFC 7638 thumbprint. */
export async function importReceiptKey(jwk: PrivateJwk): Promise<ReceiptSigningKey> {
  if (jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || !jwk.x || !jwk.d) {
    throw new TypeError("the receipt key must be an Ed25519 private JWK {kty: OKP, crv: Ed25519, x, d}");
  }
  const privateKey = await crypto.subtle.importKey(
    "jwk",
    { kty: "OKP", crv: "Ed25519", x: jwk.x, d: jwk.d },
    ED25519,
    false,
    ["sign"],
  );
  const kid = await jwkThumbprint(jwk);
  return { kid, privateKey, publicJwk: { kty: "OKP", crv: "Ed25519", x: jwk.x, kid, alg: "EdDSA", use: "sig" } };
}

/**
 * Public keys that signed receipts before a rotation (README "Configuration", RECEIPT_RETIRED_PUBLIC_KEYS: a JSON array
 * of public JWKs), published beside the current key so that every receipt ever given out still verifies: a receipt is
 * evidence for as long as the contract runs. Each key's kid is its RFC 7638 thumbprint, as the signing key's is; a
 * stated kid must be that (a copy-paste slip would otherwise publish a key no receipt names). The list is public, so a
 * key carrying `d` (a private key pasted by mistake) is refused rather than published.
 */
export async function retiredReceiptKeys(json: string | undefined): Promise<PublicJwk[]> {
  if (json === undefined || json.trim() === "") return [];
  let list: unknown;
  try {
    list = JSON.parse(json);
  } catch {
    throw new TypeError("RECEIPT_RETIRED_PUBLIC_KEYS is not JSON: give a JSON array of public JWKs");
  }
  if (!Array.isArray(list)) throw new TypeError("RECEIPT_RETIRED_PUBLIC_KEYS must be a JSON array of public JWKs");
  const keys: PublicJwk[] = [];
  for (const [i, item] of list.entries()) {
    const jwk = (item ?? {}) as Record<string, unknown>;
    const where = `RECEIPT_RETIRED_PUBLIC_KEYS[${i}]`;
    if ("d" in jwk) throw new TypeError(`${where} holds a private key (d): list only the public half {kty, crv, x}`);
    if (jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || typeof jwk.x !== "string") {
      throw new TypeError(`${where} must be an Ed25519 public JWK {kty: OKP, crv: Ed25519, x}`);
    }
    let bytes: Uint8Array;
    try {
      bytes = fromBase64url(jwk.x);
    } catch {
      bytes = new Uint8Array();
    }
    if (bytes.byteLength !== 32) throw new TypeError(`${where}.x must be the 32-byte Ed25519 public key, base64url`);
    const kid = await jwkThumbprint({ kty: "OKP", crv: "Ed25519", x: jwk.x });
    if (jwk.kid !== undefined && jwk.kid !== kid) {
      throw new TypeError(`${where}.kid must be the key's RFC 7638 thumbprint ${kid}`);
    }
    keys.push({ kty: "OKP", crv: "Ed25519", x: jwk.x, kid, alg: "EdDSA", use: "sig" });
  }
  return keys;
}

/** The JWKS served at /.well-known/jwks.json: the public half of each key, never `d`. */
export function receiptJwks(keys: readonly Pick<ReceiptSigningKey, "publicJwk">[]): { keys: PublicJwk[] } {
  return { keys: keys.map(({ publicJwk: { kty, crv, x, kid, alg, use } }) => ({ kty, crv, x, kid, alg, use })) };
}

/** Media type of the receipt's payload, named in the JWS header so a verifier knows what it holds. */
export const RECEIPT_CONTENT_TYPE = "objection-receipt+json";

/** The receipt as a compact JWS: header {alg: EdDSA, kid, typ: JOSE, cty}, payload its canonical JSON. */
export async function signReceipt(receipt: ObjectionReceipt, key: ReceiptSigningKey): Promise<string> {
  const header = base64url(
    encoder.encode(canonicalJson({ alg: "EdDSA", kid: key.kid, typ: "JOSE", cty: RECEIPT_CONTENT_TYPE })),
  );
  const payload = base64url(encoder.encode(canonicalJson(receipt)));
  const signature = await crypto.subtle.sign(ED25519, key.privateKey, encoder.encode(`${header}.${payload}`));
  return `${header}.${payload}.${base64url(new Uint8Array(signature))}`;
}

export type ReceiptVerification =
  | { ok: true; receipt: ObjectionReceipt; kid: string }
  | { ok: false; reason: "malformed" | "unsupported-algorithm" | "unknown-key" | "bad-signature" };

/** Checks a receipt against a JWKS, as any standard JOSE library would (tests/unit/objection-receipt.test.ts). */
export async function verifyReceipt(jws: string, jwks: { keys: readonly PublicJwk[] }): Promise<ReceiptVerification> {
  const parts = jws.split(".");
  if (parts.length !== 3) return { ok: false, reason: "malformed" };
  const [h, p, s] = parts as [string, string, string];
  let header: { alg?: unknown; kid?: unknown; crit?: unknown };
  let receipt: ObjectionReceipt;
  let signature: Uint8Array<ArrayBuffer>;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(fromBase64url(h)));
    receipt = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(fromBase64url(p)));
    signature = fromBase64url(s);
  } catch {
    return { ok: false, reason: "malformed" };
  }
  // RFC 7515 §4.1.11: a header with critical extensions this verifier does not know must be refused.
  if (header.alg !== "EdDSA" || header.crit !== undefined) return { ok: false, reason: "unsupported-algorithm" };
  const jwk = jwks.keys.find((k) => k.kid === header.kid && k.kty === "OKP" && k.crv === "Ed25519");
  if (!jwk) return { ok: false, reason: "unknown-key" };
  const publicKey = await crypto.subtle.importKey("jwk", { kty: "OKP", crv: "Ed25519", x: jwk.x }, ED25519, false, [
    "verify",
  ]);
  const valid = await crypto.subtle.verify(ED25519, publicKey, signature, encoder.encode(`${h}.${p}`));
  if (!valid) return { ok: false, reason: "bad-signature" };
  return { ok: true, receipt, kid: jwk.kid };
}
