/**
 * Drives testing/resend-server.ts over HTTP, from code that cannot hold the Node object (worker
 * tests running in workerd). Same operations as `FakeResend`, scoped to one API key ("account").
 */
import type { AccountState, Reply } from "./resend-server.ts";

export interface ResendAccountControl {
  apiKey: string;
  enqueue(...replies: Reply[]): Promise<void>;
  setDefault(reply: Reply): Promise<void>;
  /** Enforce a request rate on this account (see FakeResend.setRateLimit). */
  setRateLimit(requestsPerSecond: number | undefined): Promise<void>;
  state(): Promise<AccountState>;
  reset(): Promise<void>;
}

export function resendAccount(baseUrl: string, apiKey: string): ResendAccountControl {
  const at = (suffix = "") => `${baseUrl}/__fake/accounts/${encodeURIComponent(apiKey)}${suffix}`;
  const ok = async (res: Response) => {
    if (!res.ok) throw new Error(`fake Resend control failed: ${res.status} ${await res.text()}`);
    return res;
  };
  return {
    apiKey,
    enqueue: async (...replies) => {
      await ok(await fetch(at("/replies"), { method: "POST", body: JSON.stringify(replies) }));
    },
    setDefault: async (reply) => {
      await ok(await fetch(at("/default"), { method: "PUT", body: JSON.stringify(reply) }));
    },
    setRateLimit: async (requestsPerSecond) => {
      await ok(await fetch(at("/rate-limit"), { method: "PUT", body: JSON.stringify({ requestsPerSecond }) }));
    },
    state: async () => (await (await ok(await fetch(at()))).json()) as AccountState,
    reset: async () => {
      await ok(await fetch(at(), { method: "DELETE" }));
    },
  };
}
