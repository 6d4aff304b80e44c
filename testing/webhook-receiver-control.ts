/**
 * Drives testing/webhook-receiver.ts over HTTP, from code that cannot hold the Node object (worker tests in workerd).
 * One `ReceiverControl` per receiver name; its `url` is what an endpoint registers.
 */
import type { ReceiverFault, ReceiverState } from "./webhook-receiver.ts";

export interface ReceiverControl {
  /** The URL to register as the endpoint: POSTs to it are verified and recorded. */
  url: string;
  /** Gives the receiver the endpoint's secret(s); from then on it verifies every call and refuses forgeries. */
  setSecrets(...secrets: string[]): Promise<void>;
  /** Scripts faults, consumed one per call in order; afterwards calls are answered 200. */
  faults(...faults: ReceiverFault[]): Promise<void>;
  /** Keep call bodies in the state (default); off for benchmarks with thousands of calls. */
  keepBodies(keep: boolean): Promise<void>;
  state(): Promise<ReceiverState>;
  reset(): Promise<void>;
}

export function webhookReceiver(baseUrl: string, name: string): ReceiverControl {
  const at = (suffix = "") => `${baseUrl}/__fake/receivers/${encodeURIComponent(name)}${suffix}`;
  const ok = async (res: Response) => {
    if (!res.ok) throw new Error(`webhook receiver control failed: ${res.status} ${await res.text()}`);
    return res;
  };
  return {
    url: `${baseUrl}/r/${encodeURIComponent(name)}`,
    setSecrets: async (...secrets) => {
      await ok(await fetch(at("/secrets"), { method: "PUT", body: JSON.stringify(secrets) }));
    },
    faults: async (...faults) => {
      await ok(await fetch(at("/faults"), { method: "POST", body: JSON.stringify(faults) }));
    },
    keepBodies: async (keep) => {
      await ok(await fetch(at("/keep-bodies"), { method: "PUT", body: JSON.stringify(keep) }));
    },
    state: async () => (await (await ok(await fetch(at()))).json()) as ReceiverState,
    reset: async () => {
      await ok(await fetch(at(), { method: "DELETE" }));
    },
  };
}
