import { CompactSign, calculateJwkThumbprint, compactVerify, createLocalJWKSet, importJWK } from "jose";
import { describe, expect, it } from "vitest";
import {
  generateReceiptKey,
  importReceiptKey,
  objectionReceipt,
  receiptJwks,
  retiredReceiptKeys,
  signReceipt,
  verifyReceipt,
} from "../../domain/objection-receipt.ts";

// DPA 5.3: the customer keeps a signed receipt of its objection and can check it offline against the published JWKS
// with any standard JOSE library; `jose` stands in for that library here.

const receipt = objectionReceipt({
  publication: { id: "pub-7", fingerprint: "ab".repeat(32) },
  customer: "C-1001",
  changes: ["2024-07-01-aws-regional-data-centres"],
  receivedAt: new Date("2026-04-16T21:59:59.000Z"), // 23:59:59 in Copenhagen, on the deadline day
  deadline: "2026-04-16",
});

describe("objection receipt payload", () => {
  it("carries publication, fingerprint, customer, changes, receivedAt, deadline and onTime", () => {
    expect(receipt).toEqual({
      publication: "pub-7",
      fingerprint: "ab".repeat(32),
      customer: "C-1001",
      changes: ["2024-07-01-aws-regional-data-centres"],
      receivedAt: "2026-04-16T21:59:59.000Z",
      deadline: "2026-04-16",
      onTime: true,
    });
    const late = objectionReceipt({
      ...receipt,
      publication: { id: "p", fingerprint: "f" },
      receivedAt: new Date("2026-04-16T22:00:00Z"),
    });
    expect(late.onTime).toBe(false);
  });
});

describe("JWS (EdDSA, Ed25519) and JWKS", () => {
  it("publishes an RFC 7517/8037 JWKS whose kid is the RFC 7638 thumbprint, without the private part", async () => {
    const key = await importReceiptKey(await generateReceiptKey());
    const jwks = receiptJwks([key]);
    expect(jwks.keys).toHaveLength(1);
    const [jwk] = jwks.keys;
    expect(Object.keys(jwk ?? {}).sort()).toEqual(["alg", "crv", "kid", "kty", "use", "x"]);
    expect(jwk).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA", use: "sig" });
    expect(jwk?.kid).toBe(await calculateJwkThumbprint({ kty: "OKP", crv: "Ed25519", x: jwk?.x ?? "" }, "sha256"));
  });

  it("signs a receipt that jose verifies against the published JWKS", async () => {
    const key = await importReceiptKey(await generateReceiptKey());
    const jws = await signReceipt(receipt, key);
    const { payload, protectedHeader } = await compactVerify(jws, createLocalJWKSet(receiptJwks([key])));
    expect(protectedHeader).toMatchObject({ alg: "EdDSA", kid: key.kid });
    expect(JSON.parse(new TextDecoder().decode(payload))).toEqual(receipt);
  });

  it("verifies a receipt jose signed with the same key (both directions agree)", async () => {
    const privateJwk = await generateReceiptKey();
    const key = await importReceiptKey(privateJwk);
    const jws = await new CompactSign(new TextEncoder().encode(JSON.stringify(receipt)))
      .setProtectedHeader({ alg: "EdDSA", kid: key.kid })
      .sign(await importJWK(privateJwk, "EdDSA"));
    expect(await verifyReceipt(jws, receiptJwks([key]))).toEqual({ ok: true, receipt, kid: key.kid });
  });

  it("refuses a changed payload, another key, an unknown kid, alg none and garbage", async () => {
    const key = await importReceiptKey(await generateReceiptKey());
    const other = await importReceiptKey(await generateReceiptKey());
    const jwks = receiptJwks([key]);
    const jws = await signReceipt(receipt, key);
    const [h, , s] = jws.split(".");
    const forged = Buffer.from(
      JSON.stringify({ ...receipt, onTime: true, receivedAt: "2026-05-01T00:00:00.000Z" }),
    ).toString("base64url");
    expect(await verifyReceipt(`${h}.${forged}.${s}`, jwks)).toEqual({ ok: false, reason: "bad-signature" });
    await expect(compactVerify(`${h}.${forged}.${s}`, createLocalJWKSet(jwks))).rejects.toThrow();

    const signedByOther = await signReceipt(receipt, other);
    expect(await verifyReceipt(signedByOther, jwks)).toEqual({ ok: false, reason: "unknown-key" });
    const relabelled = `${h}.${signedByOther.split(".").slice(1).join(".")}`;
    expect(await verifyReceipt(relabelled, jwks)).toEqual({ ok: false, reason: "bad-signature" });

    const none = Buffer.from(JSON.stringify({ alg: "none", kid: key.kid })).toString("base64url");
    expect(await verifyReceipt(`${none}.${jws.split(".")[1]}.`, jwks)).toEqual({
      ok: false,
      reason: "unsupported-algorithm",
    });
    expect(await verifyReceipt("not-a-jws", jwks)).toEqual({ ok: false, reason: "malformed" });
    expect(await verifyReceipt("a.b!.c", jwks)).toEqual({ ok: false, reason: "malformed" });
  });

  it("refuses a key that is not an Ed25519 private JWK", async () => {
    await expect(importReceiptKey({ kty: "OKP", crv: "Ed25519", x: "abc" } as never)).rejects.toThrow(/Ed25519/);
  });
});

describe("retired receipt keys (RECEIPT_RETIRED_PUBLIC_KEYS)", () => {
  it("reads a JSON array of public JWKs and gives each its RFC 7638 kid, as jose computes it", async () => {
    const a = await importReceiptKey(await generateReceiptKey());
    const b = await importReceiptKey(await generateReceiptKey());
    const listed = JSON.stringify([
      { kty: "OKP", crv: "Ed25519", x: a.publicJwk.x },
      { kty: "OKP", crv: "Ed25519", x: b.publicJwk.x, kid: b.kid },
    ]);
    const keys = await retiredReceiptKeys(listed);
    expect(keys).toEqual([a.publicJwk, b.publicJwk]);
    expect(keys[0]?.kid).toBe(await calculateJwkThumbprint({ kty: "OKP", crv: "Ed25519", x: a.publicJwk.x }));
    for (const none of [undefined, "", "  ", "[]"]) expect(await retiredReceiptKeys(none)).toEqual([]);
  });

  it("refuses, naming the entry and the rule: not JSON, not an array, a private key, a bad x, a wrong kid", async () => {
    const key = await generateReceiptKey();
    const cases: [string, RegExp][] = [
      ["[{", /not JSON/],
      ['{"keys": []}', /must be a JSON array/],
      [JSON.stringify([key]), /\[0\] holds a private key \(d\)/],
      [JSON.stringify([{ kty: "RSA", n: "x", e: "AQAB" }]), /\[0\] must be an Ed25519 public JWK/],
      [JSON.stringify([{ kty: "OKP", crv: "Ed25519", x: "short" }]), /\[0\]\.x must be the 32-byte/],
      [JSON.stringify([{ kty: "OKP", crv: "Ed25519", x: key.x, kid: "my-old-key" }]), /\[0\]\.kid must be/],
    ];
    for (const [json, message] of cases) {
      const error = await retiredReceiptKeys(json).catch((e: unknown) => e);
      expect(error, json).toBeInstanceOf(TypeError);
      expect((error as Error).message).toMatch(message);
      // The message never quotes the private part it refused.
      expect((error as Error).message).not.toContain(key.d);
    }
  });
});
