import { sha256Hex } from "../../domain/canonical.ts";
import { renderFanoutAlert } from "../../emails/fanout-alert.ts";
import { giveUpChunk, markRequeued, strandedChunks } from "../db/fanout-chunks.ts";
import { markStalled, settleFanouts, unfinishedFanouts, unmarkStalled } from "../db/publications.ts";
import { sendAndLog } from "../email/port.ts";
import { emailTransport } from "../email/transport.ts";
import { publicUrl } from "../env.ts";
import type { FanoutMessage } from "./engine/fanout.ts";
import { MESSAGES_PER_SEND_BATCH } from "./publish.ts";

// The reconciler of the notice fan-out, run by the publish check (POST /api/admin/publish) and so by every cron tick.
// A chunk handed to the queue is lost when its message is dropped before it is acknowledged: the local queue keeps
// messages in memory, and in production a message whose consumer invocation dies on every delivery goes to
// `notices-dlq`. Nothing else takes such a chunk up again, so the reconciler does: a chunk handed over longer ago than
// the grace period, none of whose rows changed since, with deliveries missing or open (pending, or sending without a
// live send lease), is queued again.
//
// Queuing a chunk again is safe even when its first message was not lost after all, because the send loop is exactly
// once under any number of copies of a message (worker/notices/engine/fanout.ts):
// - deliveries are UNIQUE(publication, subscriber): a copy inserts nothing new;
// - a pending row is claimed once, with its Idempotency-Key; rows already claimed are only re-sent under the key they
//   were claimed with, byte for byte, and the provider returns the first result instead of sending again;
// - the send lease lets one consumer at a time send a key, and the reconciler leaves a chunk under a live lease alone.
// Proved by tests/worker/notices-recovery.test.ts ("a consumer killed at any step of the send loop …" and "messages
// dropped after the hand-off …"), and against the real `npm start` by tests/e2e/recovery.e2e.test.ts.
//
// It does not re-queue for ever: after RECOVERY_MAX_REQUEUES the chunk's open rows are given up — dead when never
// handed to the provider, stuck when a call under their key may have gone through — listed in the dead letters and
// alerted. Rows still `sending` past Resend's 24 h key window are flagged stuck by the consumer, never re-sent.

/**
 * Grace period after a chunk's last hand-off to the queue and the last change to any of its rows. A live message is
 * never left alone that long: the consumer's longest back-off between two attempts is 5 minutes (backoffSeconds),
 * the send lease 3 minutes, and a 50,000-subscriber backlog at the plan's 2 requests/s drains in about 4 minutes.
 * Configurable as NOTICE_RECOVERY_GRACE_SECONDS (the end-to-end test uses seconds).
 */
export const RECOVERY_GRACE_MS = 30 * 60_000;

/**
 * Times one chunk is queued again before its open rows are given up. Each re-queue follows a lost message, so three
 * in a row (at least 1.5 h with the grace period) means the chunk itself kills its consumer: a person must look.
 */
export const RECOVERY_MAX_REQUEUES = 3;

/**
 * A fan-out not complete this long after its publication is flagged stalled and alerted to the vendor, once. A normal
 * fan-out of 50,000 subscribers takes minutes; with every retry back-off it ends within an hour. Flagged while the
 * reconciler still re-queues: DPA 5.2 counts the notice period from the notice, so the vendor needs to know early.
 */
export const FANOUT_STALL_MS = 60 * 60_000;

/** Chunks looked at per run (50,000 subscribers); the next tick takes the rest. */
export const RECOVERY_CHUNKS_PER_RUN = 500;

export function recoveryGraceMs(env: Pick<Env, "NOTICE_RECOVERY_GRACE_SECONDS">): number {
  const n = Number(env.NOTICE_RECOVERY_GRACE_SECONDS);
  return Number.isFinite(n) && n >= 0 ? n * 1000 : RECOVERY_GRACE_MS;
}

export interface RecoveryDeps {
  db: D1Database;
  queue: Pick<Queue<FanoutMessage>, "sendBatch">;
  now: Date;
  graceMs: number;
  /** The admin ledger, linked from every alert. */
  adminUrl: string;
  /** Sends one alert to the vendor; false when it could not be sent. */
  alert(email: ReturnType<typeof renderFanoutAlert>, idempotencyKey: string): Promise<boolean>;
}

export interface RecoveryResult {
  /** Chunks queued again. */
  requeued: number;
  /** Chunks given up after RECOVERY_MAX_REQUEUES (their open rows are dead or stuck, listed in the dead letters). */
  gaveUp: number;
  /** Publications whose fan-out was found complete by this run. */
  completed: number[];
  /** Publications whose fan-out is not complete. */
  incomplete: number[];
  /** Incomplete publications older than FANOUT_STALL_MS. */
  stalled: number[];
}

export function recoveryDeps(env: Env, now: Date): RecoveryDeps {
  return {
    db: env.DB,
    queue: env.NOTICE_QUEUE,
    now,
    graceMs: recoveryGraceMs(env),
    adminUrl: publicUrl(env, "/api/admin/publications"),
    alert: (email, idempotencyKey) => sendFanoutAlert(env, email, idempotencyKey),
  };
}

/** One alert to VENDOR_ALERT_EMAIL; true when the transport accepted it. */
export async function sendFanoutAlert(
  env: Env,
  email: ReturnType<typeof renderFanoutAlert>,
  idempotencyKey: string,
): Promise<boolean> {
  const outcome = await sendAndLog(emailTransport(env), [{ to: env.VENDOR_ALERT_EMAIL, ...email }], "fan-out alert", {
    idempotencyKey,
  });
  return outcome.outcome === "sent";
}

export async function reconcileFanouts(deps: RecoveryDeps): Promise<RecoveryResult> {
  const { db, now } = deps;
  const nowIso = now.toISOString();
  const cutoff = new Date(now.getTime() - deps.graceMs).toISOString();
  const stranded = await strandedChunks(db, cutoff, now.getTime(), RECOVERY_CHUNKS_PER_RUN);

  const again = stranded.filter((c) => c.requeues < RECOVERY_MAX_REQUEUES).map((c) => c.message);
  for (let i = 0; i < again.length; i += MESSAGES_PER_SEND_BATCH) {
    const slice = again.slice(i, i + MESSAGES_PER_SEND_BATCH);
    // Queued first, counted second: a stop in between queues the chunk once more, which is harmless (see above).
    await deps.queue.sendBatch(slice.map((body) => ({ body, contentType: "json" as const })));
    await markRequeued(db, slice, nowIso);
  }

  const givenUp: { publicationId: number; chunk: number; rows: number }[] = [];
  for (const c of stranded.filter((s) => s.requeues >= RECOVERY_MAX_REQUEUES)) {
    const detail =
      `given up after the chunk was queued again ${c.requeues} times and lost each time: dead if never handed ` +
      "to the provider, stuck if a call may have gone through (check the provider's log before sending again)";
    const rows = await giveUpChunk(db, c, detail, nowIso, now.getTime());
    if (rows > 0) givenUp.push({ publicationId: c.message.publicationId, chunk: c.message.chunk, rows });
  }
  if (givenUp.length > 0) {
    const key = await sha256Hex(givenUp.map((g) => `${g.publicationId}/${g.chunk}`).join(","));
    const sent = await deps.alert(
      renderFanoutAlert({
        subject: `${givenUp.reduce((n, g) => n + g.rows, 0)} notice(s) given up`,
        lines: [
          `These batches were queued again ${RECOVERY_MAX_REQUEUES} times and lost each time; their open deliveries are now dead or stuck and listed in the dead letters:`,
          ...givenUp.map((g) => `Publication ${g.publicationId}, batch ${g.chunk}: ${g.rows} delivery(ies).`),
        ],
        adminUrl: deps.adminUrl,
      }),
      `fanout/given-up/${key}`,
    );
    // The rows and their dead letters are written either way; the ledger shows them.
    if (!sent) console.error("fan-out alert not sent: chunks given up", givenUp);
  }

  const completed = await settleFanouts(db, nowIso);
  const unfinished = await unfinishedFanouts(db);
  const stallCutoff = now.getTime() - FANOUT_STALL_MS;
  const stalled = unfinished.filter((p) => Date.parse(p.publishedAt) <= stallCutoff);
  for (const p of stalled) {
    if (p.stalledAt || !(await markStalled(db, p.sequence, nowIso))) continue;
    const sent = await deps.alert(
      renderFanoutAlert({
        subject: `publication ${p.sequence} is not complete`,
        lines: [
          `The change notice of publication ${p.sequence} (published ${p.publishedAt}) has not reached every subscriber ${FANOUT_STALL_MS / 60_000} minutes later.`,
          "Lost batches are queued again automatically; batches given up are listed in the dead letters.",
        ],
        adminUrl: deps.adminUrl,
      }),
      `fanout/${p.sequence}/stalled`,
    );
    // Alerted once: the flag stays only when the alert went out, so a failed alert is tried again next tick.
    if (!sent) await unmarkStalled(db, p.sequence, nowIso);
  }

  return {
    requeued: again.length,
    gaveUp: givenUp.length,
    completed,
    incomplete: unfinished.map((p) => p.sequence),
    stalled: stalled.map((p) => p.sequence),
  };
}
