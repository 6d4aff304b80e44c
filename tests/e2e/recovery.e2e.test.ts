// A stop mid-fan-out loses no notice (issue 10), against the real `npm start` (workerd, local D1, local queue): 1,500
// subscribers sign up and confirm through the API; a change is published and the server's whole process group is
// killed with SIGKILL while the notice is half sent (the local queue loses every message it held); the server comes
// back on the same persisted state with a second change, whose publish answer is followed at once by another SIGKILL;
// it comes back again, and after the send lease one cron tick — nothing else — lets the reconciler queue every lost
// batch again. Then every confirmed subscriber holds each notice exactly once in the outbox.
//
// Send lease and grace period are shortened with `--var` (NOTICE_SEND_LEASE_SECONDS, NOTICE_RECOVERY_GRACE_SECONDS),
// and the send rate kept low enough that the first kill lands mid-fan-out.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addSubProcessor } from "../../testing/content-change.ts";
import {
  copyCheckout,
  freePort,
  outbox,
  type Portal,
  queryLocalD1,
  removeCopy,
  startPortal,
} from "../../testing/portal.ts";

const SUBSCRIBERS = 1_500;
/** Sign-ups per wave: the development outbox lists at most 500 emails. */
const WAVE = 250;
const LEASE_SECONDS = 10;
const GRACE_SECONDS = 3;
const VARS = [
  "--var",
  "RATE_LIMIT_IP_PER_MINUTE:100000000",
  "--var",
  `NOTICE_SEND_LEASE_SECONDS:${LEASE_SECONDS}`,
  "--var",
  `NOTICE_RECOVERY_GRACE_SECONDS:${GRACE_SECONDS}`,
];
/** 15 batches at 3 a second: the fan-out takes about 5 s, long enough to be killed half-way. */
const SLOW_RPS = 3;
/** The recovered fan-out runs at full speed. */
const FAST_RPS = 10;

/** Runs `fn` over `items` with `n` requests in flight. */
async function pool<T>(items: readonly T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) {
        const item = items[next++] as T;
        await fn(item);
      }
    }),
  );
}

async function until<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

interface LedgerEntry {
  id: number;
  recipientCount: number;
  deliveries: Record<string, number>;
}

describe("a fan-out killed mid-way and right after a publish recovers: every subscriber notified exactly once", () => {
  let dir: string;
  let state: string;
  let port: number;
  let portal: Portal | undefined;
  let lastKill = 0;
  const emails = Array.from({ length: SUBSCRIBERS }, (_, i) => `recovery-${i}@customer${i % 13}.example`);

  const start = async (rps: number, extra: string[] = []) => {
    portal = await startPortal({
      dir,
      port,
      args: ["--persist-to", state, ...VARS, "--var", `RESEND_MAX_RPS:${rps}`, ...extra],
      // Thousands of requests: wrangler's line per request would cost more than the requests.
      env: { WRANGLER_LOG: "warn" },
    });
    return portal;
  };
  const kill = async () => {
    await portal?.kill();
    portal = undefined;
    lastKill = Date.now();
  };
  const admin = (p: Portal) => ({ Authorization: `Bearer ${p.adminToken}` });
  const publish = async (p: Portal) => {
    const res = await fetch(`${p.url}/api/admin/publish`, { method: "POST", headers: admin(p) });
    const body = (await res.json()) as { status: string; sequence: number; recipients: number };
    expect([200, 201], JSON.stringify(body)).toContain(res.status);
    return body;
  };
  const ledger = async (p: Portal) => {
    const res = await fetch(`${p.url}/api/admin/publications`, { headers: admin(p) });
    return ((await res.json()) as { publications: LedgerEntry[] }).publications;
  };
  const ended = (e: LedgerEntry) =>
    ["sent", "suppressed", "dead", "stuck"].reduce((n, s) => n + (e.deliveries[s] ?? 0), 0);

  beforeAll(async () => {
    dir = copyCheckout("portal-e2e-recovery-");
    state = join(dir, ".state");
    port = await freePort();
  });

  afterAll(async () => {
    await portal?.stop();
    if (dir) removeCopy(dir);
  });

  it(`${SUBSCRIBERS} subscribers sign up and confirm through the API; the shipped list is the baseline`, {
    timeout: 240_000,
  }, async () => {
    const p = await start(SLOW_RPS);
    const began = Date.now();
    for (let from = 0; from < SUBSCRIBERS; from += WAVE) {
      const wave = emails.slice(from, from + WAVE);
      await pool(wave, 24, async (email) => {
        const res = await fetch(`${p.url}/api/subscriptions`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ email, locale: from % 500 === 0 ? "da" : "en" }),
        });
        expect(res.status, email).toBe(202);
        await res.body?.cancel();
      });
      // Confirmation emails are written after the 202: wait for the whole wave, then confirm each.
      const inWave = new Set(wave);
      const tokens = await until(
        "confirmation emails",
        60_000,
        async () => {
          const found = new Map<string, string>();
          for (const e of await outbox(p.url, { limit: 500 })) {
            const token = /\/subscription\/confirm\?token=([A-Za-z0-9_-]+)/.exec(e.text)?.[1];
            if (token && inWave.has(e.to)) found.set(e.to, token);
          }
          return found.size === wave.length ? [...found.values()] : undefined;
        },
        1_000,
      );
      await pool(tokens, 24, async (token) => {
        const res = await fetch(`${p.url}/api/subscriptions/confirm`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ token }),
        });
        expect(res.status).toBe(200);
        await res.body?.cancel();
      });
      await (await fetch(`${p.url}/api/dev/outbox`, { method: "DELETE" })).body?.cancel();
    }
    console.log(`${SUBSCRIBERS} signed up and confirmed in ${((Date.now() - began) / 1000).toFixed(1)} s`);
    expect((await publish(p)).status).toBe("baseline");
    await kill();
  });

  it("a change is published and the process group is killed with SIGKILL while the notice is half sent", {
    timeout: 120_000,
  }, async () => {
    addSubProcessor(dir, "example-support-desk", "Example Support Desk");
    const p = await start(SLOW_RPS);
    const published = await publish(p);
    expect(published).toMatchObject({ status: "published", sequence: 2, recipients: SUBSCRIBERS });
    const sentAtKill = await until("a third of the notice sent", 60_000, async () => {
      const entry = (await ledger(p)).find((e) => e.id === 2);
      const sent = entry?.deliveries.sent ?? 0;
      return sent >= SUBSCRIBERS / 3 ? sent : undefined;
    });
    await kill();
    console.log(`killed mid-fan-out: ${sentAtKill} of ${SUBSCRIBERS} sent (as last seen)`);
    expect(sentAtKill).toBeLessThan(SUBSCRIBERS);
  });

  it("restarted with a second change; killed again right after the publish answer", { timeout: 120_000 }, async () => {
    addSubProcessor(dir, "example-archive", "Example Archive");
    const p = await start(SLOW_RPS);
    const published = await publish(p);
    await kill();
    expect(published).toMatchObject({ status: "published", sequence: 3, recipients: SUBSCRIBERS });
  });

  it("restarted once more: one cron tick after the send lease and every subscriber holds each notice exactly once", {
    timeout: 180_000,
  }, async () => {
    const restartedAt = Date.now();
    const p = await start(FAST_RPS, ["--no-build"]);
    const before = (await ledger(p)).filter((e) => e.id >= 2);
    console.log(
      `after restart: ${before.map((e) => `publication ${e.id} ${ended(e)}/${e.recipientCount}`).join(", ")}`,
    );
    expect(before.some((e) => ended(e) < e.recipientCount)).toBe(true);

    // Claims made before the kill hold their send lease until it runs out; then the grace period.
    const wait = lastKill + (LEASE_SECONDS + GRACE_SECONDS + 1) * 1000 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const tick = await fetch(`${p.url}/cdn-cgi/handler/scheduled`);
    expect(tick.status).toBe(200);
    await tick.body?.cancel();
    const tickAt = Date.now();

    const done = await until("both notices complete after one tick", 150_000, async () => {
      const entries = (await ledger(p)).filter((e) => e.id >= 2);
      return entries.length === 2 && entries.every((e) => ended(e) === e.recipientCount) ? entries : undefined;
    });
    const seconds = (Date.now() - tickAt) / 1000;
    for (const e of done) expect(e.deliveries, `publication ${e.id}`).toEqual({ sent: SUBSCRIBERS });

    // The next publish check finds both complete; health says so, without addresses.
    const check = (await (await fetch(`${p.url}/api/admin/publish`, { method: "POST", headers: admin(p) })).json()) as {
      status: string;
      recovery: { requeued: number; completed: number[] };
    };
    expect(check).toMatchObject({ status: "unchanged", recovery: { requeued: 0, completed: [2, 3] } });
    const health = (await (await fetch(`${p.url}/api/health`)).json()) as { fanout: unknown };
    expect(health.fanout).toEqual({ incomplete: 0, stalled: [] });
    await portal?.stop();
    portal = undefined;

    // What the provider (the outbox transport) holds: one notice per confirmed subscriber per publication.
    const [confirmed] = queryLocalD1<{ n: number }>(
      dir,
      state,
      "SELECT COUNT(*) AS n FROM subscribers WHERE status = 'confirmed'",
    );
    expect(confirmed?.n).toBe(SUBSCRIBERS);
    const report: string[] = [];
    for (const publication of [2, 3]) {
      const rows = queryLocalD1<{ to_address: string; n: number }>(
        dir,
        state,
        `SELECT to_address, COUNT(*) AS n FROM outbox WHERE idempotency_key LIKE 'notice/${publication}/%' GROUP BY to_address`,
      );
      const mailed = new Map(rows.map((r) => [r.to_address, r.n]));
      const missing = emails.filter((e) => !mailed.has(e));
      const duplicates = rows.filter((r) => r.n > 1);
      report.push(
        `publication ${publication}: ${confirmed?.n} confirmed, ${mailed.size} mailed, ${missing.length} missing, ` +
          `${duplicates.length} duplicates`,
      );
      expect(missing, `publication ${publication}: never mailed`).toEqual([]);
      expect(duplicates, `publication ${publication}: mailed twice`).toEqual([]);
      expect(mailed.size).toBe(SUBSCRIBERS);
    }
    console.log(
      `${report.join("; ")}; restart to complete ${((Date.now() - restartedAt) / 1000).toFixed(1)} s, ` +
        `one cron tick to complete ${seconds.toFixed(1)} s`,
    );
  });
});
