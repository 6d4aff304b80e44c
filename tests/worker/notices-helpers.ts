/**
 * Helpers for the notice tests: the shipped content read through Vite (workerd has no file system), documents built
 * with the domain, a capturing queue, and a hand-made queue driver that re-delivers what the consumer retries.
 */
import { env } from "cloudflare:workers";
import { parse } from "yaml";
import { type AnnexCDocument, annexCDocument } from "../../domain/annex.ts";
import type { Content } from "../../domain/content.ts";
import type { Change } from "../../domain/schema/change.ts";
import type { SubProcessor } from "../../domain/schema/subprocessor.ts";
import { type RawFile, validateContent } from "../../domain/validate.ts";
import type { RegistrationMessage } from "../../worker/customers/registrations.ts";
import type { FanoutMessage } from "../../worker/notices/engine/fanout.ts";
import { handleQueue } from "../../worker/notices/queue.ts";

// Vite turns this into static imports of every content file (workerd has no file system to read them from).
const files = (import.meta as ImportMeta & { glob: (p: string, o: object) => unknown }).glob(
  "../../content/**/*.{yaml,mdx,md}",
  {
    query: "?raw",
    import: "default",
    eager: true,
  },
) as Record<string, string>;

function rawFile(path: string, source: string): RawFile {
  const rel = path.replace(/^(\.\.\/)+/, "");
  if (rel.endsWith(".yaml")) return { path: rel, data: parse(source) };
  const match = /^---\r?\n([\s\S]*?)\r?\n---/.exec(source);
  return { path: rel, data: match ? parse(match[1] ?? "") : {} };
}

/** The shipped content/, validated as the build validates it. */
export function shippedContent(): Content {
  const all = Object.entries(files).map(([p, s]) => rawFile(p, s));
  const pick = (dir: string) => all.filter((f) => f.path.startsWith(`content/${dir}/`));
  const vendor = all.find((f) => f.path === "content/vendor.yaml");
  if (!vendor) throw new Error("content/vendor.yaml not found");
  const { content, errors } = validateContent(
    { vendor, subprocessors: pick("subprocessors"), changes: pick("changes"), dpa: pick("dpa") },
    { today: "2026-11-23" },
  );
  if (!content) throw new Error(`shipped content does not validate: ${JSON.stringify(errors.slice(0, 3))}`);
  return content;
}

/** A new sub-processor for every customer (Copenhagen) with a UK-only location (London), announced 30+ days ahead. */
export const NEWCOMER: SubProcessor = {
  id: "nordic-support-desk",
  relationship: "third-party",
  website: "https://support-desk.example",
  contact: { email: "privacy@support-desk.example" },
  timeline: [
    {
      from: "2027-01-04",
      name: "Nordic Support Desk ApS",
      entity: { name: "Nordic Support Desk ApS", address: { street: "Havnegade 1", city: "København", country: "DK" } },
      purpose: { da: "Drift af supportsystemet", en: "Runs the support ticket system" },
      services: ["customer-support"],
      dataCategories: ["name", "email-address"],
      locations: [
        { country: "DK", city: "København" },
        { country: "GB", city: "London", appliesTo: [{ regions: ["uk"] }], transfer: { mechanism: "adequacy" } },
      ],
    },
  ],
};

export const NEWCOMER_CHANGE: Change = {
  id: "2027-01-04-nordic-support-desk-added",
  announced: "2026-11-23",
  effective: "2027-01-04",
  kind: "added",
  subprocessors: ["nordic-support-desk"],
  summary: {
    da: "Nordic Support Desk ApS tilføjes som underdatabehandler for kundesupport.",
    en: "Nordic Support Desk ApS is added as a sub-processor for customer support.",
  },
};

export async function documents(): Promise<{ base: AnnexCDocument; changed: AnnexCDocument }> {
  const content = shippedContent();
  const base = await annexCDocument(content);
  const changed = await annexCDocument({
    ...content,
    subprocessors: [...content.subprocessors, NEWCOMER],
    changes: [...content.changes, NEWCOMER_CHANGE],
  });
  return { base, changed };
}

/** An ASSETS binding that serves `doc` as /annex-c.json (production reads the built site). */
export function assetsServing(doc: AnnexCDocument): Fetcher {
  return {
    fetch: async (input: RequestInfo | URL) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      if (url.pathname === "/annex-c.json") return Response.json(doc);
      return new Response("not found", { status: 404 });
    },
    connect: () => {
      throw new Error("not supported");
    },
  } as unknown as Fetcher;
}

/** A queue producer that keeps what is sent, so the test decides when (and how often) the consumer runs. */
export function capturingQueue(): { queue: Queue<FanoutMessage>; sent: FanoutMessage[] } {
  const sent: FanoutMessage[] = [];
  const queue = {
    send: async (body: FanoutMessage) => {
      sent.push(body);
    },
    sendBatch: async (messages: Iterable<MessageSendRequest<FanoutMessage>>) => {
      for (const m of messages) sent.push(structuredClone(m.body));
    },
  } as unknown as Queue<FanoutMessage>;
  return { queue, sent };
}

/** A message of the notice queue: a fan-out chunk, or another kind its consumer takes (contact registrations). */
export type QueueBody = FanoutMessage | RegistrationMessage;

export interface QueuedMessage<Body extends QueueBody = FanoutMessage> {
  id: string;
  body: Body;
  attempts: number;
}

export type Outcome = "ack" | "retry" | "none";

/**
 * Customers under contract with their contacts, written as the customers admin would (db/customers.ts owns those
 * writes; the notice tests only need the rows). Replaces every customer and contact.
 */
export interface SeedCustomer {
  id: string;
  region: string;
  contractDate: string;
  cohort?: string;
  locale: "da" | "en";
  endedAt?: string;
  contacts: { id: string; email: string; locale?: "da" | "en"; status?: string }[];
}

export async function seedCustomers(customers: readonly SeedCustomer[]): Promise<void> {
  const now = "2026-11-01T10:00:00.000Z";
  await env.DB.batch([
    env.DB.prepare("DELETE FROM contact_tokens"),
    env.DB.prepare("DELETE FROM customer_contacts"),
    env.DB.prepare("DELETE FROM customers"),
    ...customers.flatMap((c) => [
      env.DB.prepare(
        "INSERT INTO customers (external_id, name, region, contract_date, cohort, locale, created_at, updated_at, " +
          "ended_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8)",
      ).bind(c.id, `Customer ${c.id}`, c.region, c.contractDate, c.cohort ?? null, c.locale, now, c.endedAt ?? null),
      ...c.contacts.map((k) =>
        env.DB.prepare(
          "INSERT INTO customer_contacts (id, customer_id, email, name, locale, status, created_at, updated_at) " +
            "VALUES (?1, ?2, ?3, NULL, ?4, ?5, ?6, ?6)",
        ).bind(k.id, c.id, k.email, k.locale ?? null, k.status ?? "active", now),
      ),
    ]),
  ]);
}

/** Runs the real consumer on a hand-made batch and reports what it did with each message. */
export async function deliver(
  messages: readonly QueuedMessage<QueueBody>[],
  bindings: Partial<Env>,
  options: { now?: () => Date } = {},
): Promise<{ outcomes: Map<string, Outcome>; threw: unknown }> {
  const outcomes = new Map<string, Outcome>(messages.map((m) => [m.id, "none"]));
  const batch = {
    queue: "notices",
    messages: messages.map((m) => ({
      id: m.id,
      timestamp: new Date(),
      body: structuredClone(m.body),
      attempts: m.attempts,
      ack: () => outcomes.set(m.id, "ack"),
      retry: () => outcomes.set(m.id, "retry"),
    })),
    ackAll: () => {
      for (const m of messages) outcomes.set(m.id, "ack");
    },
    retryAll: () => {
      for (const m of messages) outcomes.set(m.id, "retry");
    },
  } as unknown as MessageBatch<unknown>;
  let threw: unknown;
  try {
    await handleQueue(batch, { ...env, ...bindings } as Env, options);
  } catch (err) {
    threw = err;
  }
  return { outcomes, threw };
}

/** Delivers until every message is acked: a retried (or unanswered) message comes back with attempts + 1. */
export async function drain(bodies: readonly QueueBody[], bindings: Partial<Env>, maxRounds = 40): Promise<number> {
  let pending: QueuedMessage<QueueBody>[] = bodies.map((body, i) => ({ id: `m${i}`, body, attempts: 1 }));
  let rounds = 0;
  while (pending.length > 0) {
    if (++rounds > maxRounds) throw new Error(`queue not drained after ${maxRounds} rounds`);
    const { outcomes } = await deliver(pending, bindings);
    pending = pending.filter((m) => outcomes.get(m.id) !== "ack").map((m) => ({ ...m, attempts: m.attempts + 1 }));
  }
  return rounds;
}

export const NOTICE_TABLES = [
  // Before the rows they refer to (foreign keys).
  "webhook_attempts",
  "webhook_deliveries",
  "webhook_plans",
  "objection_events",
  "objections",
  "dead_letters",
  "deliveries",
  "fanout_chunks",
  "contact_tokens",
  "publication_customers",
  "publications",
  "webhook_events",
  "send_log",
];

export async function resetNoticeTables(): Promise<void> {
  await env.DB.batch(NOTICE_TABLES.map((t) => env.DB.prepare(`DELETE FROM ${t}`)));
}

/**
 * D1 whose every operation (run, all, first, raw, batch), numbered from 0, passes `gate`: it fails before the
 * statement runs or after it ran (the answer is lost) when the gate says so.
 */
export function gatedDb(db: D1Database, gate: (op: number) => "before" | "after" | undefined): D1Database {
  let op = 0;
  const real = new WeakMap<object, D1PreparedStatement>();
  const guarded = async <T>(run: () => Promise<T>): Promise<T> => {
    const mode = gate(op++);
    if (mode === "before") throw new Error("D1_ERROR: injected failure before the write");
    const result = await run();
    if (mode === "after") throw new Error("D1_ERROR: injected failure after the write");
    return result;
  };
  const wrap = (stmt: D1PreparedStatement): D1PreparedStatement => {
    const proxy = new Proxy(stmt, {
      get(target, prop) {
        if (prop === "bind") return (...args: unknown[]) => wrap(target.bind(...args));
        if (prop === "run" || prop === "all" || prop === "first" || prop === "raw") {
          return (...args: unknown[]) =>
            guarded(() => (target[prop] as (...a: unknown[]) => Promise<unknown>).apply(target, args));
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    real.set(proxy, stmt);
    return proxy;
  };
  return new Proxy(db, {
    get(target, prop) {
      if (prop === "prepare") return (sql: string) => wrap(target.prepare(sql));
      if (prop === "batch") {
        return (stmts: D1PreparedStatement[]) => guarded(() => target.batch(stmts.map((s) => real.get(s) ?? s)));
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
