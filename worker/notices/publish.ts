import { ANNEX_C_FORMAT, type AnnexCDocument, fingerprint } from "../../domain/annex.ts";
import { planCustomerFanout, planCustomerNotices } from "../../domain/customer-notice.ts";
import { buildNotice, type Notice, noticeDiff, planFanout, publishDecision } from "../../domain/notice.ts";
import {
  customersUnderContract,
  type PlannedContactDelivery,
  type PublicationCustomer,
  suppressedContactAddresses,
} from "../db/customer-notices.ts";
import { markEnqueued, unenqueuedChunks } from "../db/fanout-chunks.ts";
import { insertPublication, lastPublication, publicationDocuments } from "../db/publications.ts";
import { confirmedSubscribers } from "../db/subscribers.ts";
import { vendor } from "../env.ts";
import { planWebhooks, type WebhookPlanDeps } from "../webhooks/plan.ts";
import { ANNEX_C_PATH, readDeployedAnnexC } from "./deployed.ts";
import type { FanoutMessage } from "./engine/fanout.ts";

// The publish check (README "API": POST /api/admin/publish, and the cron trigger runs the same, worker/cron.ts): compare the deployed
// /annex-c.json with the last publication; if it changed, record the publication — snapshot, diff against the
// previous one, the changes it announces, the previous fingerprint (hash chain) and the frozen fan-out plan — in one
// transaction, then hand the plan to the queue. Nothing here sends mail.
// The plan has two kinds of recipient, in the same chunks, queue and ledger: confirmed self-subscribers, and the
// notice contacts of every customer under contract whose own Annex C (its region and cohort) the change touches
// (DPA 5.2, 5.5; domain/customer-notice.ts). What the publication means for each customer, concerned or not and why,
// is recorded with the plan (publication_customers).

/** Cloudflare Queues: at most 100 messages and 256 KB per sendBatch; a chunk message is ~4 KB, so 25 fit. */
export const MESSAGES_PER_SEND_BATCH = 25;

export type PublishResult =
  | { status: "baseline"; sequence: number; fingerprint: string; recipients: 0; enqueued: number; detail: string }
  | { status: "unchanged"; sequence: number; fingerprint: string; recipients: 0; enqueued: number; detail: string }
  | {
      status: "published";
      sequence: number;
      fingerprint: string;
      previousFingerprint: string;
      recipients: number;
      notConcerned: number;
      /** Customers under contract the change concerns, and those it does not (nothing of their Annex C changed). */
      customers: { concerned: number; notConcerned: number; contacts: number };
      chunks: number;
      announced: string[];
      enqueued: number;
      detail: string;
    };

export interface PublishDeps {
  db: D1Database;
  queue: Pick<Queue<FanoutMessage>, "sendBatch">;
  /** Where the publication's webhook deliveries are planned and queued (README "Webhooks"); none when absent. */
  webhooks?: Pick<WebhookPlanDeps, "queue" | "baseUrl">;
  /** Reads the deployed document; production passes `deployedDocument(env, origin)`. */
  document: () => Promise<AnnexCDocument>;
  now: Date;
}

export class PublishError extends Error {}

/** The deployed /annex-c.json (notices/deployed.ts); a site built without one cannot be published. */
export async function deployedDocument(env: Pick<Env, "ASSETS">, origin: string): Promise<AnnexCDocument> {
  const deployed = await readDeployedAnnexC(env, origin);
  if (!deployed.found) {
    throw new PublishError(`${ANNEX_C_PATH} is not deployed (HTTP ${deployed.status}): build the site first`);
  }
  return deployed.document as AnnexCDocument;
}

/** Refuses a document whose fingerprint is not the SHA-256 of its snapshot: the hash chain must be verifiable. */
async function verified(doc: AnnexCDocument): Promise<AnnexCDocument> {
  if (!doc || doc.format !== ANNEX_C_FORMAT || !doc.snapshot || !Array.isArray(doc.snapshot.entries)) {
    throw new PublishError(`${ANNEX_C_PATH} is not an Annex C document of format ${ANNEX_C_FORMAT}`);
  }
  const actual = await fingerprint(doc.snapshot);
  if (actual !== doc.fingerprint) {
    throw new PublishError(
      `${ANNEX_C_PATH} claims fingerprint ${doc.fingerprint} but its snapshot hashes to ${actual}`,
    );
  }
  return doc;
}

/** Hands every chunk not yet on the queue to it (including those of a run that stopped half-way). */
export async function enqueuePending(deps: Pick<PublishDeps, "db" | "queue" | "now">): Promise<number> {
  let total = 0;
  for (;;) {
    const messages = await unenqueuedChunks(deps.db, 100);
    if (messages.length === 0) return total;
    for (let i = 0; i < messages.length; i += MESSAGES_PER_SEND_BATCH) {
      const slice = messages.slice(i, i + MESSAGES_PER_SEND_BATCH);
      await deps.queue.sendBatch(slice.map((body) => ({ body, contentType: "json" as const })));
      await markEnqueued(deps.db, slice, deps.now.toISOString());
      total += slice.length;
    }
  }
}

export async function publish(deps: PublishDeps): Promise<PublishResult> {
  const doc = await verified(await deps.document());
  const last = await lastPublication(deps.db);
  const decision = publishDecision(last?.fingerprint ?? null, doc);
  const publishedAt = deps.now.toISOString();

  const lostRace = async (): Promise<PublishResult> => {
    const winner = await lastPublication(deps.db);
    return {
      status: "unchanged",
      sequence: winner?.sequence ?? 0,
      fingerprint: winner?.fingerprint ?? doc.fingerprint,
      recipients: 0,
      enqueued: await enqueuePending(deps),
      detail: `Another publish run recorded publication ${winner?.sequence} at the same time; nothing more to do.`,
    };
  };

  if (decision.kind === "baseline") {
    const inserted = await insertPublication(deps.db, {
      sequence: 1,
      fingerprint: doc.fingerprint,
      previousFingerprint: null,
      publishedAt,
      document: JSON.stringify(doc),
      diff: JSON.stringify({ added: [], removed: [], changed: [] }),
      announced: JSON.stringify([]),
      chunks: [],
    });
    if (!inserted) return lostRace();
    return {
      status: "baseline",
      sequence: 1,
      fingerprint: doc.fingerprint,
      recipients: 0,
      enqueued: 0,
      detail:
        "First publication after a fresh deploy: the deployed Annex C is recorded as the baseline and nobody is mailed. " +
        "Later changes are compared with it.",
    };
  }

  if (decision.kind === "unchanged" || !last) {
    return {
      status: "unchanged",
      sequence: last?.sequence ?? 0,
      fingerprint: doc.fingerprint,
      recipients: 0,
      enqueued: await enqueuePending(deps),
      detail: `The deployed Annex C (${doc.fingerprint}) is already publication ${last?.sequence}: nothing to send.`,
    };
  }

  const sequence = last.sequence + 1;
  const previous = JSON.parse(last.document) as AnnexCDocument;
  const notice = buildNotice(previous, doc, { publicationId: String(sequence), sequence, publishedAt });
  const plan = planFanout(notice, await confirmedSubscribers(deps.db));
  const customerPlan = await planCustomers(deps.db, notice, plan.chunks.length);
  const chunks = [...plan.chunks.map((c) => c.subscriberIds), ...customerPlan.chunks];
  const inserted = await insertPublication(deps.db, {
    sequence,
    fingerprint: doc.fingerprint,
    previousFingerprint: decision.previousFingerprint,
    publishedAt,
    document: JSON.stringify(doc),
    diff: JSON.stringify(noticeDiff(notice)),
    announced: JSON.stringify(notice.announced.map((c) => c.id)),
    chunks,
    customers: customerPlan.customers,
    contactDeliveries: customerPlan.deliveries,
  });
  if (!inserted) return lostRace();
  const enqueued = await enqueuePending(deps);
  // The endpoints' events, planned after the notice: a stop in between leaves them to the reconciler.
  if (deps.webhooks) await planWebhooks({ ...deps.webhooks, db: deps.db, now: deps.now }, notice);
  const concerned = customerPlan.customers.filter((c) => c.concerned).length;
  return {
    status: "published",
    sequence,
    fingerprint: doc.fingerprint,
    previousFingerprint: decision.previousFingerprint,
    recipients: plan.recipients.length + customerPlan.deliveries.length,
    notConcerned: plan.notConcerned.length,
    customers: {
      concerned,
      notConcerned: customerPlan.customers.length - concerned,
      contacts: customerPlan.deliveries.length,
    },
    chunks: chunks.length,
    announced: notice.announced.map((c) => c.id),
    enqueued,
    detail:
      `Publication ${sequence} recorded; the notice is queued for ${plan.recipients.length} subscriber(s) and ` +
      `${customerPlan.deliveries.length} contact(s) of ${concerned} concerned customer(s) in ` +
      `${chunks.length} batch(es).`,
  };
}

/**
 * The customers' part of the plan: each customer under contract resolved for its exact region and cohort; the
 * contacts of the concerned ones cut into chunks numbered after the subscribers' `firstChunk` chunks.
 */
async function planCustomers(
  db: D1Database,
  notice: Notice,
  firstChunk: number,
): Promise<{ customers: PublicationCustomer[]; deliveries: PlannedContactDelivery[]; chunks: string[][] }> {
  const [planned, suppressed] = await Promise.all([customersUnderContract(db), suppressedContactAddresses(db)]);
  const notices = planCustomerNotices(
    notice,
    planned.map((p) => p.customer),
    vendor.cohorts,
    { suppressed },
  );
  const contactIds = new Map(planned.map((p) => [p.customer.externalId, p.contactIds]));
  const audiences = new Map(notices.map((n) => [n.customer, { region: n.region, cohort: n.cohort }]));
  const deliveries: PlannedContactDelivery[] = [];
  const chunks = planCustomerFanout(String(notice.sequence), notices).map((chunk) => {
    const ids: string[] = [];
    for (const r of chunk.recipients) {
      const contactId = contactIds.get(r.customer)?.get(r.email);
      const audience = audiences.get(r.customer);
      if (!contactId || !audience) continue;
      ids.push(contactId);
      deliveries.push({ contactId, customerId: r.customer, chunk: firstChunk + chunk.index, audience });
    }
    return ids;
  });
  return {
    customers: notices.map((n) => ({
      customerId: n.customer,
      region: n.region,
      cohort: n.cohort,
      concerned: n.concerned,
      reason: n.reason?.detail,
    })),
    deliveries,
    chunks,
  };
}

/** The notice of a recorded publication, rebuilt from the stored documents (cached by the caller). */
export async function loadNotice(db: D1Database, sequence: number): Promise<Notice> {
  const found = await publicationDocuments(db, sequence);
  if (!found) throw new PublishError(`publication ${sequence} does not exist`);
  const { publication, document, previous } = found;
  return buildNotice(previous ?? document, document, {
    publicationId: String(sequence),
    sequence,
    publishedAt: publication.publishedAt,
  });
}
