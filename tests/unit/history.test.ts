import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { loadContent, readRawContent } from "../../content-io/load-content.ts";
import { canonicalJson } from "../../domain/canonical.ts";
import type { Content } from "../../domain/content.ts";
import { checkHistory, datesToCompare, HISTORY_RULES, type HistoryError } from "../../domain/history.ts";
import type { Change } from "../../domain/schema/change.ts";
import type { SubProcessor } from "../../domain/schema/subprocessor.ts";
import { RULES, validateContent } from "../../domain/validate.ts";
import { contentAtRef } from "../../scripts/lib/git.ts";

const TODAY = "2026-11-23";

let loaded: Content | undefined;

/** A fresh copy of the shipped content (read and validated once). */
function shipped(): Content {
  if (!loaded) {
    const { content, errors } = loadContent(".", TODAY);
    if (!content) throw new Error(`shipped content does not validate: ${JSON.stringify(errors)}`);
    loaded = content;
  }
  return structuredClone(loaded);
}

function sp(content: Content, id: string): SubProcessor {
  const found = content.subprocessors.find((s) => s.id === id);
  if (!found) throw new Error(`no sub-processor ${id}`);
  return found;
}

function change(content: Content, id: string): Change {
  const found = content.changes.find((c) => c.id === id);
  if (!found) throw new Error(`no change ${id}`);
  return found;
}

/** A pending change to AWS Europe: Montreal is replaced by Toronto for Canadian customers from 4 January 2027. */
function withPendingMove(content: Content, announced = "2026-12-01"): Content {
  const aws = sp(content, "aws-europe");
  const current = aws.timeline[1]?.locations ?? [];
  aws.timeline.push({
    from: "2027-01-04",
    locations: current.map((l) => (l.city === "Montreal" ? { ...l, city: "Toronto" } : l)),
  });
  content.changes.push({
    id: "2027-01-04-aws-toronto",
    announced,
    effective: "2027-01-04",
    kind: "changed",
    aspects: ["locations"],
    subprocessors: ["aws-europe"],
    summary: { da: "Canadiske kunder flyttes til Toronto.", en: "Canadian customers move to Toronto." },
  });
  return content;
}

/** A new sub-processor with its change entry, announced today with the 30 days' notice of DPA 5.2. */
function withNewcomer(content: Content, announced = TODAY, effective = "2026-12-23"): Content {
  content.subprocessors.push({
    id: "acme-support",
    relationship: "third-party",
    website: "https://acme.example",
    contact: { email: "privacy@acme.example" },
    timeline: [
      {
        from: effective,
        name: "Acme Support",
        entity: { name: "Acme Support ApS", address: { street: "Vej 1", city: "Aarhus", country: "DK" } },
        purpose: { da: "Kundesupport", en: "Customer support" },
        services: ["customer-support"],
        dataCategories: ["name", "email-address"],
        locations: [{ country: "DK", city: "Aarhus" }],
      },
    ],
  });
  content.changes.push({
    id: `${effective}-acme-support-added`,
    announced,
    effective,
    kind: "added",
    subprocessors: ["acme-support"],
    summary: { da: "Acme Support tilføjes.", en: "Acme Support is added." },
  });
  return content;
}

function rules(errors: HistoryError[]): string[] {
  return errors.map((e) => e.rule);
}

describe("history rules (validate --base)", () => {
  it("every rule has a plain-words description", () => {
    for (const text of Object.values(HISTORY_RULES)) expect(text.length).toBeGreaterThan(30);
  });

  it("CONTRIBUTING.md tells staff what every content and history rule means, one table row each", () => {
    const guide = readFileSync("CONTRIBUTING.md", "utf8");
    for (const rule of [...Object.keys(RULES), ...Object.keys(HISTORY_RULES)]) {
      expect(guide).toMatch(new RegExp(`^\\| \`${rule}\` \\| .{20,}\\|$`, "m"));
    }
  });

  it("compares every timeline date of both versions and the day before each", () => {
    const base = shipped();
    const head = withPendingMove(shipped());
    const dates = datesToCompare(base, head);
    expect(dates).toContain("2023-10-01");
    expect(dates).toContain("2023-09-30");
    expect(dates).toContain("2027-01-04");
    expect(dates).toContain("2027-01-03");
  });

  describe("unexplained-annex-change", () => {
    it("passes: unchanged content", () => {
      expect(checkHistory(shipped(), shipped(), { today: TODAY })).toEqual([]);
    });

    it("passes: a new sub-processor with its own change entry", () => {
      expect(checkHistory(shipped(), withNewcomer(shipped()), { today: TODAY })).toEqual([]);
    });

    it("fails: a past Annex C version is rewritten (Dublin becomes Cork in 2023) with no change entry", () => {
      const head = shipped();
      const first = sp(head, "aws-europe").timeline[0];
      if (!first?.locations?.[0]) throw new Error("fixture changed");
      first.locations[0].city = "Cork";
      const errors = checkHistory(shipped(), head, { today: TODAY });
      expect(errors).toContainEqual(
        expect.objectContaining({
          rule: "unexplained-annex-change",
          file: "content/subprocessors/aws-europe.mdx",
          field: "timeline.0.from",
        }),
      );
      // Today's published list (and its fingerprint) is the same: only the past is rewritten, and it is still caught.
      expect(errors[0]?.message).toContain(
        "Annex C on 2023-10-01 changes the locations of aws-europe (seen by every customer)",
      );
    });

    it("fails: a timeline step is added without a change entry (a change that only Canadian customers see)", () => {
      const head = withPendingMove(shipped());
      head.changes = head.changes.filter((c) => c.id !== "2027-01-04-aws-toronto");
      const errors = checkHistory(shipped(), head, { today: TODAY });
      expect(errors).toEqual([
        expect.objectContaining({
          rule: "unexplained-annex-change",
          file: "content/subprocessors/aws-europe.mdx",
          field: "timeline.2.from",
        }),
      ]);
      expect(errors[0]?.message).toContain("effective 2024-07-01 or 2027-01-04");
      // Only Canadian customers of the current cohort have Montreal in their list, and only they see the change.
      expect(errors[0]?.message).toContain("(seen by region ca; cohort current)");
    });

    it("fails: a pending step's content changes while its change entry stays as it was", () => {
      const base = withPendingMove(shipped());
      const head = withPendingMove(shipped());
      const step = sp(head, "aws-europe").timeline[2];
      const toronto = step?.locations?.find((l) => l.city === "Toronto");
      if (!toronto) throw new Error("fixture changed");
      toronto.city = "Vancouver";
      expect(rules(checkHistory(base, head, { today: TODAY }))).toEqual(["unexplained-annex-change"]);
    });

    it("passes: the same edit with its (not yet published) change entry updated to say so", () => {
      const base = withPendingMove(shipped());
      const head = withPendingMove(shipped());
      const toronto = sp(head, "aws-europe").timeline[2]?.locations?.find((l) => l.city === "Toronto");
      if (!toronto) throw new Error("fixture changed");
      toronto.city = "Vancouver";
      change(head, "2027-01-04-aws-toronto").summary.en = "Canadian customers move to Vancouver.";
      expect(checkHistory(base, head, { today: TODAY })).toEqual([]);
    });

    it("passes: withdrawing a change that has not been announced yet, entry and step together", () => {
      const base = withPendingMove(shipped(), "2026-12-01");
      expect(checkHistory(base, shipped(), { today: TODAY })).toEqual([]);
    });
  });

  describe("published-change-edited", () => {
    it("fails: the summary of a change announced in 2024 is reworded", () => {
      const head = shipped();
      change(head, "2024-07-01-moch-added").summary.en = "MOCH A/S joins.";
      expect(checkHistory(shipped(), head, { today: TODAY })).toEqual([
        expect.objectContaining({
          rule: "published-change-edited",
          file: "content/changes/2024-07-01-moch-added.mdx",
          field: "summary.en",
        }),
      ]);
    });

    it("fails: a published change entry is deleted", () => {
      const head = shipped();
      head.changes = head.changes.filter((c) => c.id !== "2024-07-01-moch-added");
      const errors = checkHistory(shipped(), head, { today: TODAY });
      expect(errors).toContainEqual(
        expect.objectContaining({
          rule: "published-change-edited",
          file: "content/changes/2024-07-01-moch-added.mdx",
          field: "",
        }),
      );
    });

    it("fails: the text below the frontmatter of a published entry is rewritten", () => {
      const bodies = {
        base: new Map([["2024-07-01-moch-added", "\nMOCH joins.\n"]]),
        head: new Map([["2024-07-01-moch-added", "\nMOCH joins the group.\n"]]),
      };
      expect(checkHistory(shipped(), shipped(), { today: TODAY, bodies })).toEqual([
        expect.objectContaining({
          rule: "published-change-edited",
          file: "content/changes/2024-07-01-moch-added.mdx",
          field: "body",
        }),
      ]);
      // Whitespace at the ends is not an edit.
      bodies.head.set("2024-07-01-moch-added", "MOCH joins.");
      expect(checkHistory(shipped(), shipped(), { today: TODAY, bodies })).toEqual([]);
    });

    it("passes: an entry announced after today is not published yet and may still be edited", () => {
      const base = withPendingMove(shipped(), "2026-12-01");
      const head = withPendingMove(shipped(), "2026-12-01");
      change(head, "2027-01-04-aws-toronto").summary.en = "Customers in Canada move to Toronto.";
      expect(checkHistory(base, head, { today: TODAY })).toEqual([]);
    });

    it("fails: the same edit once the announced date has come", () => {
      const base = withPendingMove(shipped(), "2026-12-01");
      const head = withPendingMove(shipped(), "2026-12-01");
      change(head, "2027-01-04-aws-toronto").summary.en = "Customers in Canada move to Toronto.";
      expect(rules(checkHistory(base, head, { today: "2026-12-01" }))).toEqual(["published-change-edited"]);
    });
  });

  describe("effective-moved-earlier", () => {
    function moved(effective: string): HistoryError[] {
      const base = withPendingMove(shipped(), "2026-12-01");
      const head = withPendingMove(shipped(), "2026-12-01");
      change(head, "2027-01-04-aws-toronto").effective = effective;
      const step = sp(head, "aws-europe").timeline[2];
      if (step) step.from = effective;
      return checkHistory(base, head, { today: TODAY });
    }

    it("fails: moved to 15 December 2026, 14 days after the notice of 1 December (DPA 5.2 needs 30)", () => {
      const errors = moved("2026-12-15");
      expect(errors).toEqual([
        expect.objectContaining({
          rule: "effective-moved-earlier",
          file: "content/changes/2027-01-04-aws-toronto.mdx",
          field: "effective",
        }),
      ]);
      expect(errors[0]?.message).toContain("2026-12-31");
    });

    it("passes: moved earlier but still 30 days after the notice", () => {
      expect(moved("2026-12-31")).toEqual([]);
    });

    it("passes: moved later", () => {
      expect(moved("2027-02-01")).toEqual([]);
    });

    it("fails: moving `announced` back does not make room for an earlier effective date", () => {
      const base = withPendingMove(shipped(), "2026-12-01");
      const head = withPendingMove(shipped(), "2026-11-23");
      const c = change(head, "2027-01-04-aws-toronto");
      c.effective = "2026-12-23";
      const step = sp(head, "aws-europe").timeline[2];
      if (step) step.from = "2026-12-23";
      expect(rules(checkHistory(base, head, { today: TODAY }))).toContain("effective-moved-earlier");
    });
  });

  describe("backdated-notice", () => {
    it("fails: a new entry claims to have been announced before today", () => {
      const errors = checkHistory(shipped(), withNewcomer(shipped(), "2026-11-01", "2026-12-23"), { today: TODAY });
      expect(errors[0]?.message).toContain(
        "set announced to 2026-11-23 and effective to 2026-12-23 or later (DPA 5.2)",
      );
      expect(errors).toEqual([
        expect.objectContaining({
          rule: "backdated-notice",
          file: "content/changes/2026-12-23-acme-support-added.mdx",
          field: "announced",
        }),
      ]);
    });

    it("passes: a new entry announced today", () => {
      expect(checkHistory(shipped(), withNewcomer(shipped(), TODAY), { today: TODAY })).toEqual([]);
    });
  });
});

describe("unexplained-annex-change, over random edits of the shipped timelines", () => {
  const content = shipped();
  const steps = content.subprocessors.flatMap((sp) =>
    sp.timeline.map((step, index) => ({ id: sp.id, index, removed: step.removed === true })),
  );
  const regions = content.vendor.regions.map((r) => r.id);
  const cohorts = content.vendor.cohorts.map((c) => c.id);

  it("any edit to what a step says, with no change entry to explain it, is caught on that step", () => {
    const edit = fc.record({
      at: fc.constantFrom(...steps.filter((s) => !s.removed)),
      what: fc.constantFrom("city", "appliesTo", "purpose", "entity", "drop-location"),
      region: fc.constantFrom(...regions),
      cohort: fc.constantFrom(...cohorts),
    });
    fc.assert(
      fc.property(edit, ({ at, what, region, cohort }) => {
        const head = shipped();
        const step = sp(head, at.id).timeline[at.index];
        if (!step) throw new Error("generator out of range");
        const before = canonicalJson(step);
        if (what === "purpose" && step.purpose) step.purpose = { da: "Noget andet", en: "Something else" };
        else if (what === "entity" && step.entity) step.entity = { ...step.entity, name: "Other Legal Entity Ltd" };
        else if (what === "city" && step.locations?.[0]) step.locations[0].city = "Elsewhere";
        else if (what === "appliesTo" && step.locations?.[0]) {
          step.locations[0].appliesTo = [{ regions: [region], cohorts: [cohort] }];
        } else if (what === "drop-location" && step.locations && step.locations.length > 1) step.locations.pop();
        fc.pre(canonicalJson(step) !== before);
        const errors = checkHistory(shipped(), head, { today: TODAY });
        expect(errors).toContainEqual(
          expect.objectContaining({
            rule: "unexplained-annex-change",
            file: `content/subprocessors/${at.id}.mdx`,
            field: `timeline.${at.index}.from`,
          }),
        );
      }),
      { numRuns: 150 },
    );
  });

  it("content compared with itself, read in another file order, has nothing to report", () => {
    fc.assert(
      fc.property(fc.constantFrom(...content.subprocessors.map((s) => s.id)), (id) => {
        const head = shipped();
        const target = sp(head, id);
        // The same files read in another order are the same content.
        head.subprocessors = [target, ...head.subprocessors.filter((s) => s.id !== id)];
        head.changes = [...head.changes].reverse();
        expect(checkHistory(shipped(), head, { today: TODAY })).toEqual([]);
      }),
      { numRuns: 20 },
    );
  });
});

describe("npm run validate -- --base <ref> on a real git history", { timeout: 30_000 }, () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  function repo(): string {
    const dir = mkdtempSync(join(tmpdir(), "history-repo-"));
    dirs.push(dir);
    cpSync("content", join(dir, "content"), { recursive: true });
    git(dir, ["init", "-q", "-b", "main"]);
    commit(dir, "base");
    return dir;
  }

  function git(cwd: string, args: string[]): string {
    const run = spawnSync("git", ["-c", "user.name=Test", "-c", "user.email=test@example.com", ...args], {
      cwd,
      encoding: "utf8",
    });
    if (run.status !== 0) throw new Error(run.stderr);
    return run.stdout;
  }

  function commit(dir: string, message: string): void {
    git(dir, ["add", "-A"]);
    git(dir, ["commit", "-q", "-m", message]);
  }

  function validate(dir: string, base: string, env: Record<string, string> = {}) {
    return spawnSync(process.execPath, ["scripts/validate.ts", "--root", dir, "--base", base], {
      encoding: "utf8",
      env: { ...process.env, GITHUB_ACTIONS: "", BUILD_DATE: TODAY, ...env },
    });
  }

  it("reads the content tree of a revision without touching the working tree", () => {
    const dir = repo();
    const file = join(dir, "content/subprocessors/moch.mdx");
    writeFileSync(file, readFileSync(file, "utf8").replace("København K", "Aarhus C"));
    const base = contentAtRef("HEAD", dir);
    try {
      expect(base.hasContent).toBe(true);
      expect(readFileSync(join(base.root, "content/subprocessors/moch.mdx"), "utf8")).toContain("København K");
      expect(validateContent(readRawContent(base.root), { today: TODAY }).errors).toEqual([]);
    } finally {
      base.cleanup();
    }
    expect(readFileSync(file, "utf8")).toContain("Aarhus C");
  });

  it("fails with file, field and rule when a past location is rewritten in a commit", () => {
    const dir = repo();
    const file = join(dir, "content/subprocessors/aws-europe.mdx");
    // The first Dublin is the 2023 step; a later step is untouched.
    writeFileSync(file, readFileSync(file, "utf8").replace("city: Dublin", "city: Cork"));
    commit(dir, "rewrite the past");
    const run = validate(dir, "HEAD~1");
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("content/subprocessors/aws-europe.mdx: timeline.0.from: [unexplained-annex-change]");
    expect(run.stdout).not.toContain("::error");
    // In GitHub Actions the same error is also an annotation on the file in the pull request.
    const ci = validate(dir, "HEAD~1", { GITHUB_ACTIONS: "true" });
    expect(ci.stdout).toContain(
      "::error file=content/subprocessors/aws-europe.mdx,title=[unexplained-annex-change] timeline.0.from::compared with the base",
    );
  });

  it("fails when a published change entry is deleted, and passes against its own revision", () => {
    const dir = repo();
    rmSync(join(dir, "content/changes/2024-07-01-moch-added.mdx"));
    rmSync(join(dir, "content/subprocessors/moch.mdx"));
    commit(dir, "drop moch");
    expect(validate(dir, "HEAD").status).toBe(0);
    const run = validate(dir, "HEAD~1");
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("content/changes/2024-07-01-moch-added.mdx: (file): [published-change-edited]");
  });

  it("fails when the body of a published change entry is edited in a commit", () => {
    const dir = repo();
    const file = join(dir, "content/changes/2024-07-01-moch-added.mdx");
    writeFileSync(file, `${readFileSync(file, "utf8")}\nA paragraph added afterwards.\n`);
    commit(dir, "edit a published body");
    const run = validate(dir, "HEAD~1");
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("content/changes/2024-07-01-moch-added.mdx: body: [published-change-edited]");
  });

  it("passes when the pull request adds a sub-processor the right way", () => {
    const dir = repo();
    writeFileSync(
      join(dir, "content/changes/2026-12-23-acme-support-added.mdx"),
      [
        "---",
        "id: 2026-12-23-acme-support-added",
        `announced: ${TODAY}`,
        "effective: 2026-12-23",
        "kind: added",
        "subprocessors: [acme-support]",
        "summary:",
        "  da: Acme Support tilføjes til kundesupport.",
        "  en: Acme Support is added for customer support.",
        "---",
        "",
      ].join("\n"),
    );
    writeFileSync(
      join(dir, "content/subprocessors/acme-support.mdx"),
      [
        "---",
        "id: acme-support",
        "relationship: third-party",
        "website: https://acme.example",
        "contact:",
        "  email: privacy@acme.example",
        "timeline:",
        "  - from: 2026-12-23",
        "    name: Acme Support",
        "    entity:",
        "      name: Acme Support ApS",
        "      address: { street: Vej 1, city: Aarhus, country: DK }",
        "    purpose: { da: Kundesupport, en: Customer support }",
        "    services: [customer-support]",
        "    dataCategories: [name, email-address]",
        "    locations:",
        "      - country: DK",
        "        city: Aarhus",
        "---",
        "",
      ].join("\n"),
    );
    commit(dir, "add acme");
    const run = validate(dir, "HEAD~1");
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/history is intact compared with HEAD~1/);
  });

  it("says clearly when the base revision cannot be found", () => {
    const dir = repo();
    const run = validate(dir, "origin/does-not-exist");
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/fetch-depth: 0/);
  });
});
