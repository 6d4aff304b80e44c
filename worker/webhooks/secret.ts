/**
 * Webhook signing secrets (README "Webhooks"). A secret is Standard Webhooks' `whsec_` + base64 of 32 random bytes; the
 * subscriber sees it once. The worker must sign with it later, so it cannot be stored as a hash: it is sealed with
 * AES-256-GCM under a key derived (HKDF-SHA-256) from the WEBHOOK_SECRET_KEY secret binding, with the endpoint id as
 * additional data, so a sealed value copied onto another endpoint's row does not open. D1 never holds the plain secret.
 */
import { base64url, fromBase64url } from "../../domain/canonical.ts";

const SECRET_PREFIX = "whsec_";
/** 32 bytes: the HMAC-SHA256 key length; Standard Webhooks asks for 24 to 64. */
const SECRET_BYTES = 32;
const SEALED_VERSION = "v1";
const encoder = new TextEncoder();

/** A fresh `whsec_…` secret from the platform CSPRNG. */
export function newWebhookSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(SECRET_BYTES));
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return `${SECRET_PREFIX}${btoa(binary)}`;
}

const keys = new Map<string, Promise<CryptoKey>>();

function sealingKey(material: string | undefined): Promise<CryptoKey> {
  // A missing key is a deployment error, never a reason to store the secret in the clear.
  if (!material || material.length < 32) throw new Error("WEBHOOK_SECRET_KEY is not set (32+ characters)");
  let key = keys.get(material);
  if (!key) {
    key = crypto.subtle
      .importKey("raw", encoder.encode(material), "HKDF", false, ["deriveKey"])
      .then((base) =>
        crypto.subtle.deriveKey(
          { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: encoder.encode("webhook-secret/v1") },
          base,
          { name: "AES-GCM", length: 256 },
          false,
          ["encrypt", "decrypt"],
        ),
      );
    keys.set(material, key);
  }
  return key;
}

/** `v1.<iv>.<ciphertext>` (base64url), bound to the endpoint it belongs to. */
export async function sealSecret(
  env: Pick<Env, "WEBHOOK_SECRET_KEY">,
  endpointId: string,
  secret: string,
): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: encoder.encode(endpointId) },
    await sealingKey(env.WEBHOOK_SECRET_KEY),
    encoder.encode(secret),
  );
  return `${SEALED_VERSION}.${base64url(iv)}.${base64url(sealed)}`;
}

/** The plain secret of a sealed value; throws when the value was tampered with, moved or sealed under another key. */
export async function openSecret(
  env: Pick<Env, "WEBHOOK_SECRET_KEY">,
  endpointId: string,
  sealed: string,
): Promise<string> {
  const [version, iv, data] = sealed.split(".");
  if (version !== SEALED_VERSION || !iv || !data) throw new Error("not a sealed webhook secret");
  const plain = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: fromBase64url(iv), additionalData: encoder.encode(endpointId) },
    await sealingKey(env.WEBHOOK_SECRET_KEY),
    fromBase64url(data),
  );
  return new TextDecoder().decode(plain);
}
