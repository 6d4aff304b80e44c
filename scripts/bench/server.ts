// Helpers shared by the benchmarks that run `npm start` on loopback.
import type { ChildProcess } from "node:child_process";

export { freePort } from "../../testing/portal.ts";

export async function waitForHealth(base: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`npm start exited early (code ${child.exitCode})`);
    try {
      const res = await fetch(`${base}/api/health`, { signal: AbortSignal.timeout(2_000) });
      await res.body?.cancel();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`npm start did not answer ${base}/api/health within ${timeoutMs / 1000} s`);
}

/** Stops `npm start` and everything it started (wrangler, workerd): the whole process group. */
export function stopServer(child: ChildProcess): Promise<void> {
  return new Promise((resolveStop) => {
    const group = (signal: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, signal);
      } catch {
        // already gone
      }
    };
    if (child.exitCode !== null || child.signalCode !== null) {
      group("SIGKILL");
      return resolveStop();
    }
    const kill = setTimeout(() => group("SIGKILL"), 10_000);
    child.once("exit", () => {
      clearTimeout(kill);
      group("SIGKILL");
      resolveStop();
    });
    group("SIGTERM");
  });
}

/** Runs one SQL query on the local D1 database kept in `state` (the server must be stopped). */
