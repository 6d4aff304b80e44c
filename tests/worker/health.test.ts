import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

describe("GET /api/health", () => {
  it("answers 200 with the version, the fingerprint of the deployed /annex-c.json and the fan-out state", async () => {
    const res = await exports.default.fetch("https://portal.example/api/health");
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; version: string; fingerprint: string | null };
    expect(body).toEqual({
      status: "ok",
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      fingerprint: "sha256:test-fingerprint",
      fanout: { incomplete: 0, stalled: [] },
    });
  });

  it("answers unknown API paths with problem+json 404", async () => {
    const res = await exports.default.fetch("https://portal.example/api/nothing-here");
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    const body = (await res.json()) as { status: number; type: string; title: string; detail: string };
    expect(body.status).toBe(404);
    expect(body.detail).toContain("/api/nothing-here");
  });
});
