/**
 * Sign-up limits (docs/architecture.md "Subscriptions"): past the per-address limit the answer is still 202 and nothing more is
 * sent (no enumeration); only the per-IP limit answers 429 with Retry-After, and it allows ≥ 10 a minute.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { call, json, outbox, resetTables } from "./helpers.ts";

beforeEach(async () => {
  await resetTables();
  // Half-way through a minute and an hour, so the fixed windows cannot roll over mid-test.
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(new Date("2026-11-23T10:30:30.000Z"));
});
afterEach(() => {
  vi.useRealTimers();
});

const fromIp = (ip: string, email: string) => json({ email }, { "CF-Connecting-IP": ip });

describe("per-IP limit", () => {
  it("allows 10 sign-ups a minute from one IP, then answers 429 with Retry-After", async () => {
    const limits = { RATE_LIMIT_IP_PER_MINUTE: "10" };
    for (let i = 0; i < 10; i++) {
      const res = await call("/api/subscriptions", fromIp("192.0.2.1", `ip${i}@example.com`), limits);
      expect(res.status).toBe(202);
    }
    const limited = await call("/api/subscriptions", fromIp("192.0.2.1", "ip10@example.com"), limits);
    expect(limited.status).toBe(429);
    expect(limited.headers.get("content-type")).toContain("application/problem+json");
    expect(limited.headers.get("Retry-After")).toBe("30");
    expect(((await limited.json()) as { code: string }).code).toBe("rate_limited");
    expect(await outbox("ip10@example.com")).toHaveLength(0);
    // Another IP is not affected.
    expect((await call("/api/subscriptions", fromIp("192.0.2.2", "other@example.com"), limits)).status).toBe(202);
  });

  it("never goes below 10 a minute even if configured lower", async () => {
    for (let i = 0; i < 10; i++) {
      const res = await call("/api/subscriptions", fromIp("192.0.2.3", `low${i}@example.com`), {
        RATE_LIMIT_IP_PER_MINUTE: "2",
      });
      expect(res.status).toBe(202);
    }
  });

  it("starts counting afresh in the next minute", async () => {
    const limits = { RATE_LIMIT_IP_PER_MINUTE: "10" };
    for (let i = 0; i < 11; i++) await call("/api/subscriptions", fromIp("192.0.2.4", `w${i}@example.com`), limits);
    vi.setSystemTime(new Date("2026-11-23T10:31:05.000Z"));
    expect((await call("/api/subscriptions", fromIp("192.0.2.4", "next@example.com"), limits)).status).toBe(202);
  });

  it("can be raised by configuration (as the benchmark does)", async () => {
    for (let i = 0; i < 30; i++) {
      const res = await call("/api/subscriptions", fromIp("192.0.2.5", `b${i}@example.com`), {
        RATE_LIMIT_IP_PER_MINUTE: "1000",
      });
      expect(res.status).toBe(202);
    }
  });
});

describe("per-address limit", () => {
  it("sends at most 3 confirmation emails an hour to one address, answering 202 every time", async () => {
    const answers: string[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await call("/api/subscriptions", fromIp(`198.51.100.${i}`, "target@example.com"));
      expect(res.status).toBe(202);
      answers.push(await res.text());
    }
    expect(new Set(answers).size).toBe(1);
    expect(await outbox("target@example.com")).toHaveLength(3);
    // Case and spacing do not get around it: the limit counts the normalised address.
    await call("/api/subscriptions", fromIp("198.51.100.99", " TARGET@Example.com "));
    expect(await outbox("target@example.com")).toHaveLength(3);
  });

  it("allows new confirmation emails in the next hour", async () => {
    for (let i = 0; i < 4; i++) await call("/api/subscriptions", fromIp(`198.51.101.${i}`, "hourly@example.com"));
    expect(await outbox("hourly@example.com")).toHaveLength(3);
    vi.setSystemTime(new Date("2026-11-23T11:00:01.000Z"));
    await call("/api/subscriptions", fromIp("198.51.101.200", "hourly@example.com"));
    expect(await outbox("hourly@example.com")).toHaveLength(4);
  });
});
