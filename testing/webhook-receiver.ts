/**
 * A webhook receiver for tests and benchmarks (Node side), in its own process or the test runner's: what a customer's
 * vendor-risk or ticketing system does with our Standard Webhooks calls.
 *
 * Each receiver is a path `/r/<name>` with its own state. Once the test gives it the endpoint's secret (the API shows
 * the secret only after registration), every call is verified with the `standardwebhooks` library exactly as a
 * receiver would: a bad signature or a timestamp older than 5 minutes is answered 401 and counted as rejected. Verified
 * calls are de-duplicated by `webhook-id`, so `unique` is what the receiver's system saw. Faults are scripted per
 * receiver and consumed in order before the default answer (200):
 * a status (with Retry-After), a slow answer, a hang (never answers), a connection reset.
 *
 * Controlled over HTTP (`testing/webhook-receiver-control.ts`) so workerd tests can drive it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { Webhook } from "standardwebhooks";

export type ReceiverFault =
  | { kind: "status"; status: number; retryAfter?: string; body?: string }
  /** Answers 200 after `ms`. */
  | { kind: "slow"; ms: number }
  /** Never answers (the sender's timeout decides). */
  | { kind: "hang" }
  /** Closes the connection without an answer. */
  | { kind: "reset" };

export interface ReceivedCall {
  id: string | null;
  timestamp: string | null;
  /** true: verified with the secret; false: refused (see `error`); null: no secret given yet, answered anyway. */
  verified: boolean | null;
  error: string | null;
  answered: number | "hang" | "reset";
  receivedAt: string;
  body: string;
}

export interface ReceiverState {
  calls: ReceivedCall[];
  /** Verified event bodies by webhook-id: what the receiving system acted on, once per id. */
  unique: Record<string, unknown>;
  rejected: number;
  /** Verified calls whose webhook-id had been seen before (retries the receiver ignored). */
  duplicates: number;
}

interface Receiver extends ReceiverState {
  secrets: string[];
  faults: ReceiverFault[];
  /** Every call, verified or not, in arrival order (kept only when `keepBodies`). */
  keepBodies: boolean;
}

export interface WebhookReceiverServer {
  url: string;
  close(): Promise<void>;
}

function fresh(): Receiver {
  return { calls: [], unique: {}, rejected: 0, duplicates: 0, secrets: [], faults: [], keepBodies: true };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function state(r: Receiver): ReceiverState {
  return { calls: r.calls, unique: r.unique, rejected: r.rejected, duplicates: r.duplicates };
}

export async function startWebhookReceiver(port = 0): Promise<WebhookReceiverServer> {
  const receivers = new Map<string, Receiver>();
  const sockets = new Set<Socket>();
  const receiver = (name: string) => {
    let r = receivers.get(name);
    if (!r) {
      r = fresh();
      receivers.set(name, r);
    }
    return r;
  };

  async function control(name: string, req: IncomingMessage, res: ServerResponse, rest: string) {
    const r = receiver(name);
    const body = req.method === "GET" || req.method === "DELETE" ? "" : await readBody(req);
    if (req.method === "GET" && rest === "") return json(res, 200, state(r));
    if (req.method === "DELETE" && rest === "") {
      receivers.delete(name);
      return json(res, 204, null);
    }
    if (req.method === "PUT" && rest === "/secrets") {
      r.secrets = JSON.parse(body) as string[];
      return json(res, 204, null);
    }
    if (req.method === "POST" && rest === "/faults") {
      r.faults.push(...(JSON.parse(body) as ReceiverFault[]));
      return json(res, 204, null);
    }
    if (req.method === "PUT" && rest === "/keep-bodies") {
      r.keepBodies = JSON.parse(body) as boolean;
      return json(res, 204, null);
    }
    return json(res, 404, { error: "unknown control route" });
  }

  async function receive(name: string, req: IncomingMessage, res: ServerResponse) {
    const r = receiver(name);
    const body = await readBody(req);
    const header = (n: string) => (typeof req.headers[n] === "string" ? (req.headers[n] as string) : null);
    const call: ReceivedCall = {
      id: header("webhook-id"),
      timestamp: header("webhook-timestamp"),
      verified: null,
      error: null,
      answered: 200,
      receivedAt: new Date().toISOString(),
      body: r.keepBodies ? body : "",
    };
    r.calls.push(call);
    if (r.secrets.length > 0) {
      const headers = {
        "webhook-id": call.id ?? "",
        "webhook-timestamp": call.timestamp ?? "",
        "webhook-signature": header("webhook-signature") ?? "",
      };
      const results = r.secrets.map((secret) => {
        try {
          return { ok: true as const, event: new Webhook(secret).verify(body, headers) };
        } catch (error) {
          return { ok: false as const, error: (error as Error).message };
        }
      });
      const good = results.find((x) => x.ok);
      if (!good) {
        call.verified = false;
        call.error = results.map((x) => (x.ok ? "" : x.error)).join("; ");
        call.answered = 401;
        r.rejected++;
        return json(res, 401, { error: call.error });
      }
      call.verified = true;
    }
    const fault = r.faults.shift();
    if (fault?.kind === "reset") {
      call.answered = "reset";
      req.socket.destroy();
      return;
    }
    if (fault?.kind === "hang") {
      call.answered = "hang";
      return;
    }
    if (fault?.kind === "status") {
      call.answered = fault.status;
      res.writeHead(fault.status, {
        "content-type": "text/plain",
        ...(fault.retryAfter ? { "retry-after": fault.retryAfter } : {}),
      });
      res.end(fault.body ?? `scripted ${fault.status}`);
      return;
    }
    if (fault?.kind === "slow") await new Promise((resolve) => setTimeout(resolve, fault.ms));
    // Acted upon: once per webhook-id (only calls that passed verification, or all while no secret is known).
    if (call.id !== null && call.verified !== false) {
      if (call.id in r.unique) r.duplicates++;
      else r.unique[call.id] = JSON.parse(body || "null");
    }
    return json(res, 200, { ok: true });
  }

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://receiver");
    const controlMatch = /^\/__fake\/receivers\/([\w.-]+)(\/.*)?$/.exec(url.pathname);
    const receiveMatch = /^\/r\/([\w.-]+)$/.exec(url.pathname);
    const handle = controlMatch
      ? control(controlMatch[1] as string, req, res, controlMatch[2] ?? "")
      : receiveMatch && req.method === "POST"
        ? receive(receiveMatch[1] as string, req, res)
        : Promise.resolve(json(res, 404, { error: "not found" }));
    handle.catch((error) => json(res, 500, { error: String(error) }));
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("receiver did not bind");
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function json(res: ServerResponse, status: number, body: unknown) {
  if (res.headersSent || res.writableEnded) return;
  if (status === 204 || body === null) {
    res.writeHead(status);
    res.end();
    return;
  }
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}
