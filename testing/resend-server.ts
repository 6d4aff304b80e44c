/**
 * A fake of Resend's HTTP API for tests (Node side): POST /emails and POST /emails/batch.
 *
 * It behaves like the real service where the worker depends on it:
 * - `Authorization: Bearer <key>` is required; each API key is its own "account" with its own
 *   recorded requests, deliveries and scripted replies, so test files sharing one server never collide.
 * - `Idempotency-Key`: the same key with the same body replays the first successful answer without a
 *   second delivery; the same key with a different body is refused with 409 (Resend keeps keys 24 h).
 * - A batch holds at most 100 emails (422 beyond that).
 *
 * Faults are scripted per account, either from Node (the returned `FakeResend`) or over HTTP from the
 * worker tests (`testing/resend-control.ts` speaks the `/__fake/...` control routes below):
 * one-shot replies are consumed in order, then the account's default (normally success) applies.
 */
import { spawn } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { RESEND_BATCH_LIMIT } from "../domain/notice.ts";

export type Reply =
  /** 200 with generated ids (the normal answer). */
  | { kind: "ok" }
  /** Any status with an optional JSON body and headers (4xx, 5xx…). */
  | { kind: "status"; status: number; body?: unknown; headers?: Record<string, string> }
  /** 429 with `retry-after` (seconds), like Resend's rate limiter. */
  | { kind: "rate-limit"; retryAfterSeconds: number }
  /** 5xx with a body that is not JSON (e.g. a proxy's HTML error page). */
  | { kind: "garbage"; status: number }
  /** Accept the request and never answer (until the server closes). */
  | { kind: "hang" }
  /** Close the connection without any answer: the sender cannot know whether it was sent. */
  | { kind: "drop" }
  /** Deliver (record the emails) but drop the connection before answering: a lost response. */
  | { kind: "deliver-then-drop" };

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  idempotencyKey: string | null;
  body: unknown;
  reply: Reply["kind"] | "replayed" | "conflict" | "invalid" | "over-limit";
  receivedAt: string;
  /** When the request arrived (its headers, before the body is read), in epoch milliseconds with fractions. */
  arrivedAtMs: number;
}

export interface DeliveredEmail {
  id: string;
  from: string;
  to: string[];
  subject: string;
  html?: string;
  text?: string;
  headers?: Record<string, string>;
  /** The tags sent with it, as Resend sends them back with its events: names to values. */
  tags?: Record<string, string>;
  idempotencyKey: string | null;
}

export interface AccountState {
  requests: RecordedRequest[];
  delivered: DeliveredEmail[];
  /** Requests refused because they exceeded the account's request rate (see `setRateLimit`). */
  overLimit?: number;
}

interface Account extends AccountState {
  /** Enforced request rate (requests per rolling second), when set. */
  rateLimit?: number;
  /** Arrival times (ms) of the requests admitted within the last second. */
  arrivals: number[];
  queue: Reply[];
  defaultReply: Reply;
  idempotency: Map<string, { bodyHash: string; status: number; body: unknown }>;
}

export interface FakeResend {
  /** Base URL to give the SDK (RESEND_BASE_URL), e.g. http://127.0.0.1:54321 */
  url: string;
  /** Queues one-shot replies for an API key, used in order before the default. */
  enqueue(apiKey: string, ...replies: Reply[]): void;
  /** Sets the reply used once the queue is empty (initially `{ kind: "ok" }`). */
  setDefault(apiKey: string, reply: Reply): void;
  /**
   * Enforces a request rate like Resend's per-team limit: at most `requestsPerSecond` requests in any rolling
   * 1000 ms; the next one is refused with 429 + retry-after and counted in `overLimit` (undefined lifts the limit).
   */
  setRateLimit(apiKey: string, requestsPerSecond: number | undefined): void;
  /** What an API key's account has seen and delivered so far. */
  state(apiKey: string): AccountState;
  /** Forgets one account, or every account. */
  reset(apiKey?: string): void;
  close(): Promise<void>;
}

function recipientsOnly(body: unknown): unknown {
  const list = Array.isArray(body) ? body : [body];
  return list.map((e) => (e && typeof e === "object" && "to" in e ? { to: (e as { to: unknown }).to } : {}));
}

function newAccount(): Account {
  return {
    requests: [],
    delivered: [],
    overLimit: 0,
    arrivals: [],
    queue: [],
    defaultReply: { kind: "ok" },
    idempotency: new Map(),
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

function resendError(status: number, name: string, message: string) {
  return { statusCode: status, name, message };
}

interface EmailPayload {
  from?: unknown;
  to?: unknown;
  subject?: unknown;
  html?: unknown;
  text?: unknown;
  headers?: unknown;
  tags?: unknown;
}

/** Resend's rule for tags: a list of names and values of ASCII letters, digits, `_` and `-`, at most 256 each. */
const TAG_TEXT = /^[A-Za-z0-9_-]{1,256}$/;
const validTags = (tags: unknown) =>
  tags === undefined ||
  (Array.isArray(tags) &&
    tags.every(
      (t) =>
        t &&
        typeof t === "object" &&
        TAG_TEXT.test(String((t as { name?: unknown }).name)) &&
        TAG_TEXT.test(String((t as { value?: unknown }).value)),
    ));

function validEmail(e: EmailPayload): boolean {
  const to = Array.isArray(e.to) ? e.to : [e.to];
  return (
    validTags(e.tags) &&
    typeof e.from === "string" &&
    typeof e.subject === "string" &&
    to.length > 0 &&
    to.every((x) => typeof x === "string") &&
    (typeof e.html === "string" || typeof e.text === "string")
  );
}

export async function startFakeResend(
  options: {
    port?: number;
    /** false: keep only who got what subject (for load benchmarks, where 50,000 full emails would not fit in memory). */
    keepBodies?: boolean;
    /**
     * A request header carrying the moment the request arrived (epoch milliseconds), set by a proxy in front that
     * stamps requests on an event loop of its own (testing/resend-process.ts); a request without it is
     * stamped here when its headers are read.
     */
    arrivalHeader?: string;
  } = {},
): Promise<FakeResend> {
  const keepBodies = options.keepBodies ?? true;
  const accounts = new Map<string, Account>();
  const sockets = new Set<Socket>();
  const hanging = new Set<ServerResponse>();

  const account = (key: string): Account => {
    let a = accounts.get(key);
    if (!a) {
      a = newAccount();
      accounts.set(key, a);
    }
    return a;
  };

  const snapshot = (a: Account): AccountState => ({
    requests: structuredClone(a.requests),
    delivered: structuredClone(a.delivered),
    overLimit: a.overLimit ?? 0,
  });

  const api: Omit<FakeResend, "url" | "close"> = {
    enqueue: (key, ...replies) => account(key).queue.push(...replies),
    setDefault: (key, reply) => {
      account(key).defaultReply = reply;
    },
    setRateLimit: (key, rps) => {
      const a = account(key);
      a.rateLimit = rps;
      a.arrivals = [];
    },
    state: (key) => snapshot(account(key)),
    reset: (key) => (key === undefined ? accounts.clear() : void accounts.delete(key)),
  };

  async function control(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    // /__fake/accounts/<key>[/replies|/default|/rate-limit]
    const match = /^\/__fake\/accounts\/([^/]+)(?:\/(replies|default|rate-limit))?$/.exec(path);
    if (path === "/__fake/reset" && req.method === "POST") {
      api.reset();
      return send(res, 204, null);
    }
    if (!match?.[1]) return send(res, 404, { error: "unknown control route" });
    const key = decodeURIComponent(match[1]);
    const sub = match[2];
    const raw = await readBody(req);
    if (!sub && req.method === "GET") return send(res, 200, api.state(key));
    if (!sub && req.method === "DELETE") {
      api.reset(key);
      res.writeHead(204).end();
      return;
    }
    if (sub === "replies" && req.method === "POST") {
      api.enqueue(key, ...(JSON.parse(raw) as Reply[]));
      res.writeHead(204).end();
      return;
    }
    if (sub === "rate-limit" && req.method === "PUT") {
      const { requestsPerSecond } = JSON.parse(raw) as { requestsPerSecond?: number };
      api.setRateLimit(key, requestsPerSecond);
      res.writeHead(204).end();
      return;
    }
    if (sub === "default" && req.method === "PUT") {
      api.setDefault(key, JSON.parse(raw) as Reply);
      res.writeHead(204).end();
      return;
    }
    send(res, 405, { error: "method not allowed" });
  }

  async function emails(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    // The rate limit counts a request when it arrives, not when its (possibly large) body has been read.
    const stamped = options.arrivalHeader ? Number(req.headers[options.arrivalHeader]) : Number.NaN;
    const arrivedAtMs = Number.isFinite(stamped) ? stamped : performance.timeOrigin + performance.now();
    const raw = await readBody(req);
    const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? "");
    if (!auth?.[1])
      return send(res, 401, resendError(401, "missing_api_key", "Missing API key in the authorization header."));
    const a = account(auth[1]);
    const idempotencyKey = (req.headers["idempotency-key"] as string | undefined) ?? null;
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      body = raw;
    }
    const record: RecordedRequest = {
      method: req.method ?? "",
      path,
      headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])),
      idempotencyKey,
      // Without bodies, a request keeps only its recipients (enough to tell who a refused batch was for).
      body: keepBodies ? body : recipientsOnly(body),
      reply: "ok",
      receivedAt: new Date().toISOString(),
      arrivedAtMs,
    };
    a.requests.push(record);

    if (a.rateLimit !== undefined) {
      const now = arrivedAtMs;
      a.arrivals = a.arrivals.filter((t) => now - t < 1000);
      if (a.arrivals.length >= a.rateLimit) {
        record.reply = "over-limit";
        a.overLimit = (a.overLimit ?? 0) + 1;
        return send(
          res,
          429,
          resendError(429, "rate_limit_exceeded", `Too many requests: ${a.rateLimit} per second.`),
          {
            "retry-after": "1",
          },
        );
      }
      a.arrivals.push(now);
    }

    const isBatch = path === "/emails/batch";
    const list = (isBatch ? body : [body]) as EmailPayload[];
    if (!Array.isArray(list) || list.length === 0 || !list.every((e) => e && typeof e === "object" && validEmail(e))) {
      record.reply = "invalid";
      return send(res, 422, resendError(422, "validation_error", "The request body is missing required fields."));
    }
    if (isBatch && list.length > RESEND_BATCH_LIMIT) {
      record.reply = "invalid";
      return send(
        res,
        422,
        resendError(422, "validation_error", `A batch holds at most ${RESEND_BATCH_LIMIT} emails.`),
      );
    }

    const bodyHash = createHash("sha256").update(raw).digest("hex");
    if (idempotencyKey) {
      const seen = a.idempotency.get(idempotencyKey);
      if (seen && seen.bodyHash !== bodyHash) {
        record.reply = "conflict";
        return send(
          res,
          409,
          resendError(409, "invalid_idempotent_request", "Same idempotency key used with a different request body."),
        );
      }
      if (seen) {
        record.reply = "replayed";
        return send(res, seen.status, seen.body);
      }
    }

    const reply = a.queue.shift() ?? a.defaultReply;
    record.reply = reply.kind;
    const deliver = () => {
      const ids = list.map((e) => {
        const id = randomUUID();
        a.delivered.push({
          id,
          from: e.from as string,
          to: (Array.isArray(e.to) ? e.to : [e.to]) as string[],
          subject: e.subject as string,
          ...(keepBodies
            ? {
                html: e.html as string | undefined,
                text: e.text as string | undefined,
                headers: e.headers as Record<string, string> | undefined,
              }
            : {}),
          ...(Array.isArray(e.tags)
            ? { tags: Object.fromEntries((e.tags as { name: string; value: string }[]).map((t) => [t.name, t.value])) }
            : {}),
          idempotencyKey,
        });
        return id;
      });
      const answer = isBatch ? { data: ids.map((id) => ({ id })) } : { id: ids[0] };
      if (idempotencyKey) a.idempotency.set(idempotencyKey, { bodyHash, status: 200, body: answer });
      return answer;
    };

    switch (reply.kind) {
      case "ok":
        return send(res, 200, deliver());
      case "status":
        return send(
          res,
          reply.status,
          reply.body ?? resendError(reply.status, "application_error", "Scripted failure."),
          reply.headers,
        );
      case "rate-limit":
        return send(
          res,
          429,
          resendError(429, "rate_limit_exceeded", "Too many requests. You can only make 2 requests per second."),
          { "retry-after": String(reply.retryAfterSeconds), "ratelimit-remaining": "0" },
        );
      case "garbage":
        res.writeHead(reply.status, { "content-type": "text/html" });
        res.end("<html><body>Bad gateway</body></html>");
        return;
      case "hang":
        hanging.add(res);
        return;
      case "drop":
        req.socket.destroy();
        return;
      case "deliver-then-drop":
        deliver();
        req.socket.destroy();
        return;
    }
  }

  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://fake").pathname;
    const handler = path.startsWith("/__fake/")
      ? control(req, res, path)
      : req.method === "POST" && (path === "/emails" || path === "/emails/batch")
        ? emails(req, res, path)
        : Promise.resolve(send(res, 404, resendError(404, "not_found", "The requested endpoint does not exist.")));
    handler.catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, { error: String(err) });
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("fake Resend server has no port");

  return {
    url: `http://127.0.0.1:${address.port}`,
    ...api,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * The same fake in a process of its own, behind a thread that stamps arrivals (testing/resend-process.ts): for the
 * worker tests and the benchmarks, whose own event loops are busy. Driven over HTTP (testing/resend-control.ts).
 */
export async function startFakeResendProcess(
  options: { keepBodies?: boolean } = {},
): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  const script = fileURLToPath(new URL("./resend-process.ts", import.meta.url).href);
  const args = options.keepBodies === false ? [script, "--no-bodies"] : [script];
  const child = spawn(process.execPath, args, { stdio: ["pipe", "pipe", "inherit"] });
  const [chunk] = (await once(child.stdout, "data")) as [Buffer];
  const url = chunk.toString("utf8").trim().split("\n")[0] ?? "";
  if (!url.startsWith("http")) throw new Error(`fake Resend did not start: ${url}`);
  return {
    url,
    pid: child.pid ?? 0,
    stop: async () => {
      child.stdin.end();
      await once(child, "exit");
    },
  };
}
