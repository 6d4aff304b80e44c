/**
 * The Worker the `fanout-engine` benchmark runs in workerd (scripts/bench/fanout-engine.ts): the real worker's queue
 * handler (worker/index.ts → notices/queue.ts) and the real publish (notices/publish.ts), with the D1 binding wrapped
 * so that every statement's `meta.rows_read` / `meta.rows_written` is added up, and the consumer's acks and retries
 * counted. Its few /bench routes let the Node side apply the migrations, seed rows directly, publish and read the tally.
 */
import worker from "../../../worker/index.ts";
import type { FanoutMessage } from "../../../worker/notices/engine/fanout.ts";
import { publish } from "../../../worker/notices/publish.ts";

export interface Tally {
  statements: number;
  rowsRead: number;
  rowsWritten: number;
  /** Per statement (its first 120 characters): runs, rows read, rows written. */
  bySql: Record<string, [number, number, number]>;
}

const newTally = (): Tally => ({ statements: 0, rowsRead: 0, rowsWritten: 0, bySql: {} });
const tallies = { publish: newTally(), fanout: newTally() };
/** Each consumer invocation: start, end (epoch ms), messages. */
const spans: [number, number, number][] = [];
const queue = { invocations: 0, messages: 0, acked: 0, retried: 0, lastAckMs: 0, firstMessageMs: 0 };

function count(tally: Tally, sql: string, meta: { rows_read?: number; rows_written?: number } | undefined): void {
  const read = meta?.rows_read ?? 0;
  const written = meta?.rows_written ?? 0;
  tally.statements++;
  tally.rowsRead += read;
  tally.rowsWritten += written;
  const key = sql.slice(0, 120);
  const row = tally.bySql[key] ?? [0, 0, 0];
  tally.bySql[key] = [row[0] + 1, row[1] + read, row[2] + written];
}

const RAW = Symbol("raw statement");
const SQL = Symbol("sql");
type Counted = D1PreparedStatement & { [RAW]: D1PreparedStatement; [SQL]: string };

/** A D1 binding that adds the meta of every statement to `tally`; `first()` runs as `all()` so its meta is seen. */
function countingD1(db: D1Database, tally: Tally): D1Database {
  const wrap = (stmt: D1PreparedStatement, sql: string): Counted => {
    const counted = {
      [RAW]: stmt,
      [SQL]: sql,
      bind: (...values: unknown[]) => wrap(stmt.bind(...values), sql),
      async run() {
        const r = await stmt.run();
        count(tally, sql, r.meta);
        return r;
      },
      async all() {
        const r = await stmt.all();
        count(tally, sql, r.meta);
        return r;
      },
      async first(column?: string) {
        const r = await stmt.all<Record<string, unknown>>();
        count(tally, sql, r.meta);
        const row = r.results[0];
        if (!row) return null;
        return column === undefined ? row : (row[column] ?? null);
      },
      async raw(options?: { columnNames?: boolean }) {
        const r = await stmt.all<Record<string, unknown>>();
        count(tally, sql, r.meta);
        const rows = r.results.map((row) => Object.values(row));
        return options?.columnNames ? [Object.keys(r.results[0] ?? {}), ...rows] : rows;
      },
    };
    return counted as unknown as Counted;
  };
  return {
    prepare: (sql: string) => wrap(db.prepare(sql), sql),
    async batch(statements: D1PreparedStatement[]) {
      const results = await db.batch(statements.map((s) => (s as Counted)[RAW] ?? s));
      results.forEach((r, i) => {
        count(tally, (statements[i] as Counted)[SQL] ?? "?", r.meta);
      });
      return results;
    },
    exec: (sql: string) => db.exec(sql),
    dump: () => db.dump(),
    withSession: () => db.withSession(),
  } as unknown as D1Database;
}

/** The batch as the consumer sees it, with each ack and retry counted. */
function countedBatch(batch: MessageBatch<unknown>): MessageBatch<unknown> {
  queue.invocations++;
  queue.messages += batch.messages.length;
  if (queue.firstMessageMs === 0) queue.firstMessageMs = Date.now();
  const messages = batch.messages.map((m) => ({
    id: m.id,
    timestamp: m.timestamp,
    body: m.body,
    attempts: m.attempts,
    ack: () => {
      queue.acked++;
      queue.lastAckMs = Date.now();
      m.ack();
    },
    retry: (options?: QueueRetryOptions) => {
      queue.retried++;
      m.retry(options);
    },
  }));
  return {
    queue: batch.queue,
    messages,
    ackAll: () => {
      for (const m of messages) m.ack();
    },
    retryAll: (options?: QueueRetryOptions) => {
      for (const m of messages) m.retry(options);
    },
  } as unknown as MessageBatch<unknown>;
}

const json = (body: unknown) => Response.json(body);

export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url);
    if (request.method === "POST" && pathname === "/bench/sql") {
      // Migrations and seeding: [sql, params][] run as one batch (uncounted).
      const statements = (await request.json()) as [string, unknown[]][];
      await env.DB.batch(statements.map(([sql, params]) => env.DB.prepare(sql).bind(...params)));
      return json({ ok: true });
    }
    if (request.method === "POST" && pathname === "/bench/publish") {
      const document = await request.json();
      const result = await publish({
        db: countingD1(env.DB, tallies.publish),
        queue: env.NOTICE_QUEUE as Queue<FanoutMessage>,
        document: async () => document as never,
        now: new Date(),
      });
      return json(result);
    }
    if (request.method === "GET" && pathname === "/bench/stats") {
      return json({ tallies, queue, spans });
    }
    if (request.method === "GET" && pathname === "/bench/deliveries") {
      const { results } = await env.DB.prepare("SELECT status, COUNT(*) AS n FROM deliveries GROUP BY status").all<{
        status: string;
        n: number;
      }>();
      return json(Object.fromEntries(results.map((r) => [r.status, r.n])));
    }
    return new Response("not found", { status: 404 });
  },
  async queue(batch, env) {
    const start = Date.now();
    await worker.queue(countedBatch(batch), { ...env, DB: countingD1(env.DB, tallies.fanout) });
    spans.push([start, Date.now(), batch.messages.length]);
  },
} satisfies ExportedHandler<Env>;
