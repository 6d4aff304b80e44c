import { describe, expect, it } from "vitest";
import { deadlineFromReceipt, noticeDeadlines, receivedOn } from "../../domain/calendar.ts";
import { copenhagenTime } from "../../domain/dates.ts";
import { shippedVendor } from "./customer-fixtures.ts";

// DPA 5.3: the ten working days run from receipt. A notice delivered at or after the vendor's closing time (16:00 in
// Copenhagen) or on a closed day is received on the next working day. Summer time in Denmark: 2026-03-29 02:00 CET →
// 03:00 CEST; 2026-10-25 03:00 CEST → 02:00 CET. Each instant below is written in UTC with its Copenhagen time.

const vendor = shippedVendor;
const at = (iso: string) => new Date(iso);

describe("receivedOn (DPA 5.3, receipt)", () => {
  it("ships a closing time of 16:00", () => {
    expect(vendor.closingTime).toBe("16:00");
  });

  it("reads Copenhagen wall-clock time on both sides of each summer-time switch", () => {
    expect(copenhagenTime(at("2026-03-28T15:00:00Z"))).toBe("16:00");
    expect(copenhagenTime(at("2026-03-29T15:00:00Z"))).toBe("17:00");
    expect(copenhagenTime(at("2026-10-24T15:00:00Z"))).toBe("17:00");
    expect(copenhagenTime(at("2026-10-25T15:00:00Z"))).toBe("16:00");
  });

  it("winter, the Friday before the March switch: 15:59 is that day, 16:00 is the next working day (Monday)", () => {
    expect(receivedOn(at("2026-03-27T14:59:59Z"), vendor)).toBe("2026-03-27");
    expect(receivedOn(at("2026-03-27T15:00:00Z"), vendor)).toBe("2026-03-30");
  });

  it("summer, the Monday after the March switch: closing is at 14:00 UTC, not 15:00", () => {
    expect(receivedOn(at("2026-03-30T13:59:00Z"), vendor)).toBe("2026-03-30");
    expect(receivedOn(at("2026-03-30T14:00:00Z"), vendor)).toBe("2026-03-31");
    expect(receivedOn(at("2026-03-30T14:30:00Z"), vendor)).toBe("2026-03-31");
  });

  it("summer, the Friday before the October switch; winter, the Monday after it", () => {
    expect(receivedOn(at("2026-10-23T13:59:00Z"), vendor)).toBe("2026-10-23");
    expect(receivedOn(at("2026-10-23T14:00:00Z"), vendor)).toBe("2026-10-26");
    expect(receivedOn(at("2026-10-26T14:59:00Z"), vendor)).toBe("2026-10-26");
    expect(receivedOn(at("2026-10-26T15:00:00Z"), vendor)).toBe("2026-10-27");
  });

  it("a delivery on the switch Sundays themselves counts from Monday", () => {
    expect(receivedOn(at("2026-03-29T01:30:00Z"), vendor)).toBe("2026-03-30");
    expect(receivedOn(at("2026-10-25T00:30:00Z"), vendor)).toBe("2026-10-26");
  });

  it("a closed day moves receipt to the next working day: Maundy Thursday, Christmas Eve, a night into Saturday", () => {
    expect(receivedOn(at("2026-04-02T08:00:00Z"), vendor)).toBe("2026-04-07");
    expect(receivedOn(at("2026-12-24T08:00:00Z"), vendor)).toBe("2026-12-28");
    expect(receivedOn(at("2026-01-09T23:30:00Z"), vendor)).toBe("2026-01-12");
  });

  it("follows the vendor's closingTime", () => {
    const noon = { ...vendor, closingTime: "12:00" };
    expect(receivedOn(at("2026-01-07T10:59:00Z"), noon)).toBe("2026-01-07");
    expect(receivedOn(at("2026-01-07T11:00:00Z"), noon)).toBe("2026-01-08");
  });
});

describe("stated and honoured deadline (DPA 5.3)", () => {
  it("counts ten working days after receipt, the receipt day excluded", () => {
    // From Monday 2026-01-05: 6, 7, 8, 9, 12, 13, 14, 15, 16, 19 January.
    expect(deadlineFromReceipt("2026-01-05", vendor)).toBe("2026-01-19");
  });

  it("sent before closing, delivered after: the email states the earlier deadline, the portal honours the later", () => {
    // Sent Friday 27 March 2026 15:55, delivered 16:05 (received Monday 30 March). Easter 2026: 2, 3 and 6 April.
    // From 27 March: 30, 31 Mar, 1, 7, 8, 9, 10, 13, 14, 15 Apr. From 30 March: 31 Mar, 1, 7, 8, 9, 10, 13, 14, 15, 16.
    const d = noticeDeadlines({ sentAt: at("2026-03-27T14:55:00Z"), deliveredAt: at("2026-03-27T15:05:00Z") }, vendor);
    expect(d).toEqual({ stated: "2026-04-15", fromDelivery: "2026-04-16", honoured: "2026-04-16" });
  });

  it("never honours less than the stated deadline, and keeps the deadline the email actually carried", () => {
    const skewed = noticeDeadlines(
      { sentAt: at("2026-01-05T10:00:00Z"), deliveredAt: at("2026-01-05T09:59:00Z"), stated: "2026-01-20" },
      vendor,
    );
    expect(skewed).toEqual({ stated: "2026-01-20", fromDelivery: "2026-01-19", honoured: "2026-01-20" });
    expect(noticeDeadlines({ sentAt: at("2026-01-05T10:00:00Z") }, vendor)).toEqual({
      stated: "2026-01-19",
      fromDelivery: undefined,
      honoured: "2026-01-19",
    });
  });
});
