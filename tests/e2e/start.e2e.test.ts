// `npm start` as a reviewer runs it: two checkouts served side by side on two ports, started at the same moment, and
// stopped in the ways a terminal stops them, including the death of `npm start` itself. Nothing of a stopped server
// may be left: no workerd holding the port, no process of its group (README: Run it).
import { readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyCheckout, type Portal, removeCopy, serverGroup, startPortal } from "../../testing/portal.ts";

/** Process ids of every process whose process group is `pgid` (Linux /proc). */
function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Fields after "(comm)": state ppid pgrp …
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const [, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(pgrp) === pgid) members.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return members;
}

/** The process group the server of `portal` runs in: led by the child of `node scripts/start.ts`. */
function serverGroupOf(portal: Portal): number {
  const group = serverGroup(portal.pid);
  if (group === undefined) throw new Error(`no process group leader under npm start (pid ${portal.pid})`);
  return group;
}

function commands(pids: number[]): string[] {
  return pids.map((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim();
    } catch {
      return `${pid} (gone)`;
    }
  });
}

function canListen(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once("error", () => done(false));
    server.listen(port, "127.0.0.1", () => server.close(() => done(true)));
  });
}

/** Waits until the group is empty and the port can be bound again; returns what is still there otherwise. */
async function gone(pgid: number, port: number, limitMs = 20_000): Promise<{ left: string[]; portFree: boolean }> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const left = commands(groupMembers(pgid));
    const portFree = await canListen(port);
    if ((left.length === 0 && portFree) || Date.now() > deadline) return { left, portFree };
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function health(portal: Portal): Promise<number> {
  const res = await fetch(`${portal.url}/api/health`);
  await res.body?.cancel();
  return res.status;
}

describe.skipIf(process.platform !== "linux")("npm start", () => {
  const dirs = [copyCheckout("portal-start-a-"), copyCheckout("portal-start-b-")];
  let portals: Portal[] = [];

  beforeAll(async () => {
    // At the same moment: each one's sockets (server, inspector, workerd's internal ones) must not race the other's.
    const started = await Promise.allSettled(dirs.map((dir) => startPortal({ dir })));
    portals = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
    const failed = started.flatMap((s) => (s.status === "rejected" ? [String(s.reason)] : []));
    if (failed.length > 0) throw new Error(failed.join("\n\n"));
  });

  afterAll(async () => {
    for (const portal of portals) await portal.stop();
    for (const dir of dirs) removeCopy(dir);
  });

  it("two checkouts started at once serve side by side on their own ports", async () => {
    const [a, b] = portals as [Portal, Portal];
    expect(a.port).not.toBe(b.port);
    expect([await health(a), await health(b)]).toEqual([200, 200]);
    for (const portal of portals) {
      const page = await fetch(`${portal.url}/en/`);
      expect(page.status).toBe(200);
      // Each serves its own build: the site's links point at its own port.
      expect(await page.text()).toContain(`127.0.0.1:${portal.port}`);
    }
  });

  it("prints the address, the outbox and the development admin token, and no stack trace", async () => {
    for (const portal of portals) {
      // npm start prints its banner once its own health check passes, which may come just after ours.
      for (let i = 0; i < 300 && !portal.output().includes("Ctrl-C stops"); i++)
        await new Promise((r) => setTimeout(r, 100));
      const output = portal.output();
      expect(output).toContain(`Portal:       ${portal.url}/`);
      expect(output).toContain(`Outbox:       ${portal.url}/api/dev/outbox`);
      expect(output).toContain(`Admin token:  ${portal.adminToken}`);
      expect(output).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
      expect(output).not.toMatch(/ENOTFOUND|telemetry|update available|MODULE_LEVEL_DIRECTIVE/i);
    }
  });

  it("runs the server in its own process group, with workerd in it", () => {
    for (const portal of portals) {
      const group = commands(groupMembers(serverGroupOf(portal)));
      expect(
        group.some((c) => /\bworkerd serve\b/.test(c)),
        group.join("\n"),
      ).toBe(true);
    }
  });

  it("Ctrl-C (SIGINT to npm start) ends the whole group and frees the port", async () => {
    const portal = portals[1] as Portal;
    const pgid = serverGroupOf(portal);
    process.kill(portal.pid, "SIGINT");
    expect(await gone(pgid, portal.port)).toEqual({ left: [], portFree: true });
    // The other server is untouched.
    expect(await health(portals[0] as Portal)).toBe(200);
  });

  it("when npm start itself is killed (SIGKILL), the group still ends and the port is freed", async () => {
    const portal = portals[0] as Portal;
    const pgid = serverGroupOf(portal);
    process.kill(portal.pid, "SIGKILL");
    expect(await gone(pgid, portal.port)).toEqual({ left: [], portFree: true });
  });
});
