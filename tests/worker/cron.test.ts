/** The cron's housekeeping: unconfirmed sign-ups go after 7 days (docs/architecture.md "Subscriptions"), expired tokens and windows too. */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import worker from "../../worker/index.ts";
import { purgeUnconfirmed } from "../../worker/subscriptions/purge.ts";
import { resetTables } from "./helpers.ts";

const NOW = new Date("2026-11-23T12:00:00.000Z");
const daysAgo = (d: number) => new Date(NOW.getTime() - d * 86_400_000).toISOString();

async function addSubscriber(id: string, status: string, updatedAt: string) {
  await env.DB.prepare(
    "INSERT INTO subscribers (id, email, locale, topics, regions, status, created_at, updated_at) VALUES (?1, ?2, 'da', '[]', '[]', ?3, ?4, ?4)",
  )
    .bind(id, `${id}@example.com`, status, updatedAt)
    .run();
  await env.DB.prepare(
    "INSERT INTO subscription_tokens (token_hash, subscriber_id, kind, created_at, expires_at) VALUES (?1, ?2, 'confirm', ?3, ?4)",
  )
    .bind(`hash-${id}`, id, updatedAt, new Date(Date.parse(updatedAt) + 48 * 3_600_000).toISOString())
    .run();
}

beforeEach(resetTables);

describe("purgeUnconfirmed", () => {
  it("deletes pending sign-ups whose last request is older than 7 days, and nothing else", async () => {
    await addSubscriber("old-pending", "pending", daysAgo(8));
    await addSubscriber("young-pending", "pending", daysAgo(6));
    await addSubscriber("old-confirmed", "confirmed", daysAgo(30));
    await addSubscriber("old-unsubscribed", "unsubscribed", daysAgo(30));
    const result = await purgeUnconfirmed(env, NOW);
    const ids = (await env.DB.prepare("SELECT id FROM subscribers ORDER BY id").all<{ id: string }>()).results.map(
      (r) => r.id,
    );
    expect(ids).toEqual(["old-confirmed", "old-unsubscribed", "young-pending"]);
    expect(result.subscribers).toBe(1);
  });

  it("deletes confirmation tokens past their 48-hour expiry and finished rate-limit windows", async () => {
    await addSubscriber("fresh", "pending", daysAgo(1));
    await addSubscriber("stale", "pending", daysAgo(3));
    await env.DB.batch([
      env.DB.prepare("INSERT INTO rate_limits (key, count, expires_at_ms) VALUES ('ip:a:1', 1, ?1)").bind(
        NOW.getTime() - 1,
      ),
      env.DB.prepare("INSERT INTO rate_limits (key, count, expires_at_ms) VALUES ('ip:a:2', 1, ?1)").bind(
        NOW.getTime() + 60_000,
      ),
    ]);
    await purgeUnconfirmed(env, NOW);
    const tokens = (await env.DB.prepare("SELECT token_hash FROM subscription_tokens ORDER BY 1").all()).results;
    expect(tokens).toEqual([{ token_hash: "hash-fresh" }]);
    const windows = (await env.DB.prepare("SELECT key FROM rate_limits").all()).results;
    expect(windows).toEqual([{ key: "ip:a:2" }]);
  });
});

describe("the cron trigger", () => {
  it("runs the purge from the worker's scheduled handler", async () => {
    await addSubscriber("cron-old", "pending", new Date(Date.now() - 8 * 86_400_000).toISOString());
    await addSubscriber("cron-new", "pending", new Date().toISOString());
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "*/15 * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    const ids = (await env.DB.prepare("SELECT id FROM subscribers").all<{ id: string }>()).results.map((r) => r.id);
    expect(ids).toEqual(["cron-new"]);
  });
});
