import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { frontmatter, loadContent } from "../../content-io/load-content.ts";
import { stateOn } from "../../domain/annex.ts";
import { earliestEffectiveDate } from "../../domain/calendar.ts";

const TODAY = "2026-11-23";
const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

function copy(): string {
  const root = mkdtempSync(join(tmpdir(), "new-"));
  roots.push(root);
  cpSync("content", join(root, "content"), { recursive: true });
  return root;
}

function run(root: string, args: string[]) {
  return spawnSync(process.execPath, ["scripts/new.ts", ...args, "--root", root], {
    encoding: "utf8",
    env: { ...process.env, BUILD_DATE: TODAY },
    input: "",
  });
}

const acme = [
  "subprocessor",
  "--id",
  "acme-support",
  "--name",
  "Acme Support",
  "--website",
  "https://acme.example",
  "--contact-email",
  "privacy@acme.example",
  "--entity",
  "Acme Support Ltd",
  "--street",
  "1 High St",
  "--city",
  "Leeds",
  "--entity-country",
  "GB",
  "--purpose-da",
  "Kundesupport",
  "--purpose-en",
  "Customer support",
  "--services",
  "customer-support",
  "--data-categories",
  "name,email-address",
  "--country",
  "GB",
  "--regions",
  "uk",
  "--transfer",
  "adequacy",
  "--summary-da",
  "Acme Support tilføjes til kundesupport for britiske kunder.",
  "--summary-en",
  "Acme Support is added for customer support for UK customers.",
];

describe("npm run new", { timeout: 30_000 }, () => {
  it("subprocessor: writes a valid sub-processor and its change entry, announced today with 30 days' notice (DPA 5.2)", () => {
    const root = copy();
    const result = run(root, acme);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("✔ wrote content/subprocessors/acme-support.mdx");
    expect(result.stdout).toContain("the new content is valid");
    const { content, errors } = loadContent(root, TODAY);
    expect(errors).toEqual([]);
    const change = content?.changes.find((c) => c.id === "2026-12-23-acme-support-added");
    expect(change).toMatchObject({ announced: TODAY, effective: earliestEffectiveDate(TODAY, 30), kind: "added" });
    const sp = content?.subprocessors.find((s) => s.id === "acme-support");
    expect(sp && stateOn(sp, "2026-12-23")?.state.locations).toEqual([
      { country: "GB", city: "Leeds", appliesTo: [{ regions: ["uk"] }], transfer: { mechanism: "adequacy" } },
    ]);
  });

  it("subprocessor: with flags missing and no terminal, writes placeholders and lists what is left to fill in", () => {
    const root = copy();
    const result = run(root, ["subprocessor", "--name", "Beta Backup", "--country", "US"]);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("Left to fill in:");
    expect(result.stdout).toMatch(/content\/subprocessors\/beta-backup\.mdx: website: \[schema\]/);
    // GDPR Chapter V: a US location is outside the EEA, so a transfer mechanism is asked for.
    expect(result.stdout).toMatch(/beta-backup\.mdx: timeline\.0\.locations\.0\.transfer\.mechanism: \[schema\]/);
    expect(result.stdout).toMatch(/content\/changes\/2026-12-23-beta-backup-added\.mdx:\d+: da: TODO/);
  });

  it("subprocessor: refuses to overwrite an existing file", () => {
    const root = copy();
    const result = run(root, ["subprocessor", "--id", "moch", "--name", "MOCH"]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("already exists");
  });

  it("change --kind removed: adds the removal step and the entry, and the content stays valid", () => {
    const root = copy();
    const result = run(root, [
      "change",
      "--subprocessor",
      "moch",
      "--kind",
      "removed",
      "--summary-da",
      "MOCH A/S ophører som underdatabehandler.",
      "--summary-en",
      "MOCH A/S no longer acts as a sub-processor.",
    ]);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("the new content is valid");
    const { content, errors } = loadContent(root, TODAY);
    expect(errors).toEqual([]);
    const moch = content?.subprocessors.find((s) => s.id === "moch");
    expect(moch && stateOn(moch, "2026-12-22")).toBeDefined();
    expect(moch && stateOn(moch, "2026-12-23")).toBeUndefined();
    // The rest of the file is kept as it was: comments and flow lists survive.
    const source = readFileSync(join(root, "content/subprocessors/moch.mdx"), "utf8");
    expect(source).toContain("services: [account-management, customer-support]");
    expect(source).toContain("# Placeholder address for the example content");
  });

  it("change --kind changed: copies today's value of the aspect into a new step and says to edit it", () => {
    const root = copy();
    const result = run(root, [
      "change",
      "--subprocessor",
      "aws-europe",
      "--kind",
      "changed",
      "--aspects",
      "locations",
      "--effective",
      "2027-01-04",
      "--summary-da",
      "Nye datacentre.",
      "--summary-en",
      "New data centres.",
    ]);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("timeline.2 holds today's locations; change them to the new values");
    const change = frontmatter(readFileSync(join(root, "content/changes/2027-01-04-aws-europe-changed.mdx"), "utf8"))
      .data as Record<string, unknown>;
    expect(change).toMatchObject({
      announced: TODAY,
      effective: "2027-01-04",
      kind: "changed",
      aspects: ["locations"],
    });
    expect(loadContent(root, TODAY).errors).toEqual([]);
  });

  it("change: an unknown sub-processor is refused and nothing is written", () => {
    const root = copy();
    const result = run(root, ["change", "--subprocessor", "nobody", "--kind", "removed"]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("no such sub-processor");
    expect(existsSync(join(root, "content/changes/2026-12-23-nobody-removed.mdx"))).toBe(false);
  });
});

describe("the CONTRIBUTING.md walk-through", { timeout: 60_000 }, () => {
  /** The documented `npm run new -- subprocessor …` command, split into arguments as a shell would. */
  function documentedCommand(): string[] {
    const guide = readFileSync("CONTRIBUTING.md", "utf8");
    const start = guide.indexOf("npm run new -- subprocessor --id");
    const command = guide.slice(start, guide.indexOf("```", start)).replaceAll("\\\n", " ");
    const args = [...command.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? "");
    expect(args.slice(0, 3)).toEqual(["npm", "run", "new"]);
    return args.slice(4);
  }

  it("the documented command, then validate --base and preview-notice --base, work as the guide says", () => {
    const root = copy();
    const git = (args: string[]) =>
      spawnSync("git", ["-c", "user.name=Maria", "-c", "user.email=maria@example.com", ...args], { cwd: root });
    git(["init", "-q", "-b", "main"]);
    git(["add", "-A"]);
    git(["commit", "-q", "-m", "main"]);

    const scaffold = run(root, documentedCommand());
    expect(scaffold.status).toBe(0);
    expect(scaffold.stdout).toContain("the new content is valid");

    const env = { ...process.env, BUILD_DATE: TODAY, GITHUB_ACTIONS: "" };
    const validate = spawnSync(process.execPath, ["scripts/validate.ts", "--root", root, "--base", "main"], {
      encoding: "utf8",
      env,
    });
    expect(validate.status).toBe(0);
    expect(validate.stdout).toContain("✔ history is intact");

    const out = join(root, "preview-notice");
    const preview = spawnSync(
      process.execPath,
      ["scripts/preview-notice.ts", "--root", root, "--base", "main", "--out", out],
      { encoding: "utf8", env },
    );
    expect(preview.status).toBe(0);
    expect(preview.stdout).toContain("- Acme Support is added as a sub-processor.");
    expect(preview.stdout).toContain("| United Kingdom | Acme Support is added as a sub-processor. |");
    expect(existsSync(join(out, "en-uk.html"))).toBe(true);
    expect(existsSync(join(out, "da-uk.html"))).toBe(true);
  });
});
