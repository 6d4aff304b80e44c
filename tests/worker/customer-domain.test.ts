/**
 * The customer core runs inside the Worker as it does in Node: csv-parse (which leans on Node's Buffer, here through
 * nodejs_compat), Ed25519 in workerd's WebCrypto, and Copenhagen wall-clock time from workerd's Intl.
 */
import { describe, expect, it } from "vitest";
import { receivedOn } from "../../domain/calendar.ts";
import { parseCustomerCsv } from "../../domain/customer-import.ts";
import {
  generateReceiptKey,
  importReceiptKey,
  objectionReceipt,
  receiptJwks,
  signReceipt,
  verifyReceipt,
} from "../../domain/objection-receipt.ts";
import { vendor } from "../../worker/env.ts";

describe("customer core in workerd", () => {
  it("reads a semicolon CSV import with a BOM and CRLF", () => {
    const region = vendor.regions[0]?.id ?? "";
    const csv = `\uFEFFexternalId;name;region;contractDate;locale;contactEmail\r\nC-1;"Nordlys; A/S";${region};2023-07-05;da;DPO@nordlys.example\r\n`;
    const result = parseCustomerCsv(csv, vendor);
    expect(result).toMatchObject({
      ok: true,
      customers: [{ name: "Nordlys; A/S", contacts: [{ email: "dpo@nordlys.example" }] }],
    });
  });

  it("signs and verifies an objection receipt with Ed25519", async () => {
    const key = await importReceiptKey(await generateReceiptKey());
    const receipt = objectionReceipt({
      publication: { id: "p", fingerprint: "f" },
      customer: "C-1",
      changes: ["x"],
      receivedAt: new Date("2026-03-30T12:00:00Z"),
      deadline: "2026-04-14",
    });
    expect(await verifyReceipt(await signReceipt(receipt, key), receiptJwks([key]))).toEqual({
      ok: true,
      receipt,
      kid: key.kid,
    });
  });

  it("applies the closing time in Copenhagen summer time", () => {
    expect(receivedOn(new Date("2026-03-30T13:59:00Z"), vendor)).toBe("2026-03-30");
    expect(receivedOn(new Date("2026-03-30T14:00:00Z"), vendor)).toBe("2026-03-31");
  });
});
