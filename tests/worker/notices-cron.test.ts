/** The cron trigger runs the same publish check as POST /api/admin/publish (README "API"). */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, expect, it } from "vitest";
import worker from "../../worker/index.ts";
import { resetTables } from "./helpers.ts";
import { assetsServing, capturingQueue, documents, resetNoticeTables } from "./notices-helpers.ts";

const { base, changed } = await documents();

async function tick(doc: typeof base, queue: Queue) {
  const ctx = createExecutionContext();
  const controller = { scheduledTime: Date.now(), cron: "*/15 * * * *", noRetry: () => {} } as ScheduledController;
  worker.scheduled(controller, { ...env, ASSETS: assetsServing(doc), NOTICE_QUEUE: queue }, ctx);
  await waitOnExecutionContext(ctx);
}

async function chain() {
  const { results } = await env.DB.prepare(
    "SELECT sequence, fingerprint, previous_fingerprint, recipient_count FROM publications ORDER BY sequence",
  ).all<{ sequence: number; fingerprint: string; previous_fingerprint: string | null; recipient_count: number }>();
  return results;
}

beforeAll(async () => {
  await resetTables();
  await resetNoticeTables();
  await env.DB.prepare(
    "INSERT INTO subscribers (id, email, locale, topics, regions, status, created_at, updated_at, confirmed_at) " +
      "VALUES ('cron-1', 'cron@customer.example', 'da', '[\"subprocessors\",\"dpa\"]', '[]', 'confirmed', ?1, ?1, ?1)",
  )
    .bind("2026-11-01T00:00:00.000Z")
    .run();
});

it("records the baseline, ignores an unchanged list and queues the notice when the list changes", async () => {
  const { queue, sent } = capturingQueue();
  await tick(base, queue);
  await tick(base, queue);
  expect(await chain()).toEqual([
    { sequence: 1, fingerprint: base.fingerprint, previous_fingerprint: null, recipient_count: 0 },
  ]);
  expect(sent).toHaveLength(0);
  await tick(changed, queue);
  await tick(changed, queue);
  expect((await chain()).map((p) => [p.sequence, p.previous_fingerprint, p.recipient_count])).toEqual([
    [1, null, 0],
    [2, base.fingerprint, 1],
  ]);
  expect(sent).toEqual([{ publicationId: 2, chunk: 0, subscriberIds: ["cron-1"] }]);
});
