/** Data migrations, run as D1 runs them: the real SQL of worker/migrations against rows in the old shape. */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { REGION_IDS } from "../../worker/env.ts";
import { resetTables } from "./helpers.ts";

beforeEach(resetTables);

interface Migration {
  name: string;
  queries: string[];
}

/** Runs one migration's statements again on the current database (the setup already ran it on an empty one). */
async function rerun(prefix: string, only: (query: string) => boolean = () => true): Promise<void> {
  const migrations = (env as unknown as { TEST_MIGRATIONS: Migration[] }).TEST_MIGRATIONS;
  const migration = migrations.find((m) => m.name.startsWith(prefix));
  if (!migration) throw new Error(`no migration ${prefix}`);
  for (const query of migration.queries.filter(only)) await env.DB.prepare(query).run();
}

async function subscriber(id: string, regions: string[]): Promise<void> {
  await env.DB.prepare(
    "INSERT INTO subscribers (id, email, locale, topics, regions, status, created_at, updated_at) VALUES (?1, ?2, 'en', '[\"subprocessors\"]', ?3, 'confirmed', 'now', 'now')",
  )
    .bind(id, `${id}@example.com`, JSON.stringify(regions))
    .run();
}

async function regionsOf(id: string): Promise<string[]> {
  return JSON.parse(
    (await env.DB.prepare("SELECT regions FROM subscribers WHERE id = ?1").bind(id).first<string>("regions")) ?? "null",
  ) as string[];
}

describe("0004: the region eea-ch becomes eea and ch", () => {
  it("gives a subscriber of eea-ch both regions, in its place, without duplicates, and leaves others alone", async () => {
    await subscriber("only", ["eea-ch"]);
    await subscriber("middle", ["uk", "eea-ch", "ca"]);
    await subscriber("overlap", ["ch", "eea-ch", "de"]);
    await subscriber("untouched", ["de", "uk"]);
    await rerun("0004_");
    expect(await regionsOf("only")).toEqual(["eea", "ch"]);
    expect(await regionsOf("middle")).toEqual(["uk", "eea", "ch", "ca"]);
    expect(await regionsOf("overlap")).toEqual(["ch", "eea", "de"]);
    expect(await regionsOf("untouched")).toEqual(["de", "uk"]);
    // Every stored region is one the worker accepts today.
    for (const id of ["only", "middle", "overlap"]) {
      for (const r of await regionsOf(id)) expect(REGION_IDS).toContain(r);
    }
  });

  it("rewrites the preferences carried by an unused confirmation link", async () => {
    await subscriber("pending", ["uk"]);
    await env.DB.prepare(
      "INSERT INTO subscription_tokens (token_hash, subscriber_id, kind, request, created_at) VALUES ('h1', 'pending', 'confirm', ?1, 'now'), ('h2', 'pending', 'manage', NULL, 'now')",
    )
      .bind(JSON.stringify({ locale: "da", topics: ["dpa"], regions: ["eea-ch", "uk"] }))
      .run();
    await rerun("0004_");
    const request = await env.DB.prepare(
      "SELECT request FROM subscription_tokens WHERE token_hash = 'h1'",
    ).first<string>("request");
    expect(JSON.parse(request ?? "null")).toEqual({ locale: "da", topics: ["dpa"], regions: ["eea", "ch", "uk"] });
    expect(
      await env.DB.prepare("SELECT request FROM subscription_tokens WHERE token_hash = 'h2'").first("request"),
    ).toBe(null);
  });

  it("run twice changes nothing more", async () => {
    await subscriber("twice", ["eea-ch"]);
    await rerun("0004_");
    await rerun("0004_");
    expect(await regionsOf("twice")).toEqual(["eea", "ch"]);
  });
});

describe("0014: the ledger without rowid", () => {
  it("keeps every column of every delivery, and the lookups by message id and by customer", async () => {
    await env.DB.prepare(
      "INSERT INTO publications (sequence, fingerprint, previous_fingerprint, kind, published_at, document, diff, announced) " +
        "VALUES (1, 'f1', NULL, 'baseline', 'now', '{}', '{}', '[]')",
    ).run();
    await env.DB.prepare(
      "INSERT INTO deliveries (publication_id, subscriber_id, chunk, status, email, locale, topics, regions, batch_key, " +
        "claimed_at, deadline, attempts, sent_at, message_id, updated_at, customer_id, audience, delivered_at, " +
        "honoured_deadline) VALUES (1, 'c1', 3, 'sent', 'a@example.com', 'da', '[\"dpa\"]', '[\"uk\"]', 'k1', 'c', " +
        "'2026-12-01', 2, 's', 'msg-1', 'u', 'CUST-1', '{\"region\":\"uk\"}', 'd', '2026-12-02')",
    ).run();
    const before = await env.DB.prepare("SELECT * FROM deliveries").all();
    // The column it adds to subscribers is there already; 0016 then adds the ledger's `tagged` again (the outbox
    // still has its `tags`).
    await rerun("0014_", (q) => !q.includes("ALTER TABLE subscribers"));
    await rerun("0016_", (q) => !q.includes("ALTER TABLE outbox"));
    expect((await env.DB.prepare("SELECT * FROM deliveries").all()).results).toEqual(before.results);
    // A delivery from before 0016 carried no tags: it is in the index of message ids.
    expect(before.results[0]).toMatchObject({ tagged: 0 });
    const byMessage = await env.DB.prepare(
      "SELECT subscriber_id FROM deliveries WHERE message_id = 'msg-1'",
    ).first<string>("subscriber_id");
    expect(byMessage).toBe("c1");
    // A status outside the ledger's states is still refused.
    await expect(
      env.DB.prepare(
        "INSERT INTO deliveries (publication_id, subscriber_id, chunk, status, updated_at) VALUES (1, 'x', 0, 'lost', 'u')",
      ).run(),
    ).rejects.toThrow(/CHECK/);
  });
});
