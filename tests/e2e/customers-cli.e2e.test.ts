// `npm run customers -- import <file> [--dry-run]` against a real local portal (README "Commands"): the dry run writes
// nothing, the import registers every contact once (through the notice queue), the same file again is all unchanged,
// and a bad file exits 1 listing every error as `line N, column C: rule — detail` with nothing written.
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyCheckout, outbox, type Portal, removeCopy, startPortal, waitForEmail } from "../../testing/portal.ts";

describe("npm run customers -- import", () => {
  let dir: string;
  let portal: Portal;

  beforeAll(async () => {
    dir = copyCheckout("portal-e2e-customers-");
    portal = await startPortal({ dir });
  });

  afterAll(async () => {
    await portal?.stop();
    if (dir) removeCopy(dir);
  });

  /** The command as staff run it, with PUBLIC_BASE_URL from the environment and ADMIN_TOKEN from .dev.vars. */
  function customers(...args: string[]) {
    const { ADMIN_TOKEN: _, ...env } = process.env;
    const run = spawnSync(process.execPath, [join(dir, "scripts/customers.ts"), ...args], {
      cwd: dir,
      encoding: "utf8",
      env: { ...env, PUBLIC_BASE_URL: portal.url },
    });
    return { status: run.status, stdout: run.stdout, stderr: run.stderr };
  }

  it("dry-runs, imports, and imports again without change", async () => {
    const file = join(dir, "customers.csv");
    writeFileSync(
      file,
      "\uFEFFexternalId;name;region;contractDate;locale;contactEmail\nC-1;Nordlys A/S;uk;2023-03-14;en;dpo@nordlys.example\nC-1;;;;;legal@nordlys.example\nC-2;Maple Ltd;ca;2024-02-01;en;dpo@maple.example\n",
    );
    const dry = customers("import", file, "--dry-run");
    expect(dry.status, dry.stderr).toBe(0);
    expect(dry.stdout).toContain("(merge, dry run: nothing written): 2 created, 0 updated, 0 unchanged, 0 removed");
    expect(await outbox(portal.url, { to: "dpo@nordlys.example" })).toHaveLength(0);

    const done = customers("import", file);
    expect(done.status, done.stderr).toBe(0);
    expect(done.stdout).toContain("(merge): 2 created, 0 updated, 0 unchanged, 0 removed");
    const again = customers("import", file);
    expect(again.stdout).toContain("(merge): 0 created, 0 updated, 2 unchanged, 0 removed");
    // The registration emails go through the notice queue: the three contacts' one batch arrives together.
    await waitForEmail(portal.url, "dpo@nordlys.example");
    for (const to of ["dpo@nordlys.example", "legal@nordlys.example", "dpo@maple.example"]) {
      expect(await outbox(portal.url, { to })).toHaveLength(1);
    }
  });

  it("exits 1 on a bad file and lists every error by line and column", () => {
    const file = join(dir, "bad.jsonl");
    writeFileSync(
      file,
      `${JSON.stringify({ externalId: "C-3", name: "Fjord", region: "fr", contractDate: "2024-01-10", locale: "da", contacts: [{ email: "a@fjord.example" }] })}\n{"externalId": "C-4"\n`,
    );
    const bad = customers("import", file);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("line 1, column region: unknown-region — ");
    expect(bad.stderr).toContain("line 2, column -: json-syntax — ");
    expect(customers("import").status).toBe(2);
  });
});
