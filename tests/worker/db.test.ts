/** Data-layer rules that routes rely on: D1's bound-parameter limit and token storage. */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { findToken } from "../../worker/db/tokens.ts";
import { chunksForParameters, D1_MAX_BOUND_PARAMETERS, insertManageTokens } from "./d1-limits.ts";
import { resetTables } from "./helpers.ts";

beforeEach(resetTables);

describe("D1's limit of 100 bound parameters per query", () => {
  it("is the named constant", () => {
    expect(D1_MAX_BOUND_PARAMETERS).toBe(100);
  });

  it("chunks rows so no statement binds more than the limit", () => {
    const rows = Array.from({ length: 250 }, (_, i) => i);
    const chunks = chunksForParameters(rows, 3);
    expect(chunks.every((c) => c.length * 3 <= D1_MAX_BOUND_PARAMETERS)).toBe(true);
    expect(chunks.flat()).toEqual(rows);
    expect(() => chunksForParameters(rows, 101)).toThrow(RangeError);
  });

  it("stores 250 manage tokens in one call (more rows than one statement could bind)", async () => {
    await env.DB.prepare(
      "INSERT INTO subscribers (id, email, locale, topics, regions, status, created_at, updated_at) VALUES ('s1', 's1@example.com', 'da', '[]', '[]', 'confirmed', 'now', 'now')",
    ).run();
    const entries = Array.from({ length: 250 }, (_, i) => ({ subscriberId: "s1", tokenHash: `h${i}` }));
    await insertManageTokens(env.DB, entries, "2026-11-23T00:00:00.000Z");
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM subscription_tokens WHERE kind = 'manage'").first("n")).toBe(
      250,
    );
    const record = await findToken(env.DB, "h249");
    expect(record?.kind).toBe("manage");
    expect(record?.subscriber.email).toBe("s1@example.com");
  });
});
