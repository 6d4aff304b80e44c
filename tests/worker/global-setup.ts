import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";
import pkg from "../../package.json" with { type: "json" };
import { startFakeResendProcess } from "../../testing/resend-server.ts";
import { startWebhookReceiver } from "../../testing/webhook-receiver.ts";

declare module "vitest" {
  export interface ProvidedContext {
    resendUrl: string;
    webhookReceiverUrl: string;
  }
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/**
 * The arguments of `npm run cf-typegen`, the one command that generates worker/worker-configuration.d.ts; read from
 * package.json so the freshness check below can never use other flags than the generator.
 */
export const WRANGLER_TYPES_ARGS: string[] = (pkg.scripts["cf-typegen"] as string).split(" ").slice(1);

/**
 * The worker's `Env` type comes from the committed, generated worker/worker-configuration.d.ts. If wrangler.toml or
 * .dev.vars.example changed without regenerating it, the types lie: fail the worker tests, loudly.
 */
function assertWorkerTypesFresh(): void {
  const wrangler = join(dirname(createRequire(import.meta.url).resolve("wrangler/package.json")), "bin", "wrangler.js");
  try {
    execFileSync(process.execPath, [wrangler, ...WRANGLER_TYPES_ARGS, "--check"], {
      cwd: root,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
      stdio: "pipe",
    });
  } catch {
    throw new Error(
      "worker/worker-configuration.d.ts is out of date with wrangler.toml or .dev.vars.example. Regenerate it with: npm run cf-typegen",
    );
  }
}

/**
 * Starts the fake Resend API (workerd reaches it via RESEND_BASE_URL) in a process of its own, so that its clock sees
 * calls when they arrive, not when this busy runner gets to them (the rate-limit tests judge that clock), and the
 * webhook receiver (tests register its URLs as endpoints) in this Node process, both once for the worker project.
 */
export default async function setup(project: TestProject) {
  assertWorkerTypesFresh();
  const [fake, receiver] = await Promise.all([startFakeResendProcess(), startWebhookReceiver()]);
  project.provide("resendUrl", fake.url);
  project.provide("webhookReceiverUrl", receiver.url);
  return async () => {
    await Promise.all([fake.stop(), receiver.close()]);
  };
}
