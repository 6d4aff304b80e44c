import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, describe, expect, it } from "vitest";
import { loadContent } from "../../content-io/load-content.ts";
import type { Content } from "../../domain/content.ts";
import {
  countsFromD1,
  findLocalD1,
  parseSubscriberCounts,
  previewNotice,
  type SubscriberGroup,
} from "../../scripts/lib/preview-notice.ts";

const TODAY = "2026-11-23";
const NOW = new Date(`${TODAY}T11:00:00Z`);
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tmp(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

function shipped(): Content {
  const { content, errors } = loadContent(".", TODAY);
  if (!content) throw new Error(`shipped content does not validate: ${JSON.stringify(errors)}`);
  return structuredClone(content);
}

/** Shipped content plus a UK-only support provider, announced today with 30 days' notice (DPA 5.2). */
function withUkNewcomer(): Content {
  const content = shipped();
  content.subprocessors.push({
    id: "acme-support",
    relationship: "third-party",
    website: "https://acme.example",
    contact: { email: "privacy@acme.example" },
    timeline: [
      {
        from: "2026-12-23",
        name: "Acme Support",
        entity: { name: "Acme Support Ltd", address: { street: "1 High St", city: "Leeds", country: "GB" } },
        purpose: { da: "Kundesupport", en: "Customer support" },
        services: ["customer-support"],
        dataCategories: ["name", "email-address"],
        locations: [
          { country: "GB", city: "Leeds", appliesTo: [{ regions: ["uk"] }], transfer: { mechanism: "adequacy" } },
        ],
      },
    ],
  });
  content.changes.push({
    id: "2026-12-23-acme-support-added",
    announced: TODAY,
    effective: "2026-12-23",
    kind: "added",
    subprocessors: ["acme-support"],
    summary: { da: "Acme Support tilføjes for britiske kunder.", en: "Acme Support is added for UK customers." },
  });
  return content;
}

const groups: SubscriberGroup[] = [
  { locale: "da", topics: ["subprocessors"], regions: ["uk"], count: 3 },
  { locale: "en", topics: ["subprocessors", "dpa"], regions: [], count: 5 },
  { locale: "en", topics: ["subprocessors"], regions: ["de"], count: 2 },
  { locale: "da", topics: ["dpa"], regions: [], count: 4 },
];

type SubscriberRow = [email: string, locale: string, topics: string, regions: string, status: string];

/** A local D1 database as `npm start` leaves it: the real migrations applied, then the given subscribers. */
function localD1(file: string, rows: SubscriberRow[]): void {
  mkdirSync(dirname(file), { recursive: true });
  const db = new DatabaseSync(file);
  for (const migration of readdirSync("worker/migrations")
    .filter((f) => f.endsWith(".sql"))
    .sort()) {
    db.exec(readFileSync(join("worker/migrations", migration), "utf8"));
  }
  const insert = db.prepare(
    "INSERT INTO subscribers (id, email, locale, topics, regions, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
  );
  rows.forEach(([email, locale, topics, regions, status], i) => {
    insert.run(`id-${i}`, email, locale, topics, regions, status, TODAY, TODAY);
  });
  db.close();
}

const options = { baseLabel: "main", baseUrl: "https://portal.example", now: NOW };

describe("notice preview", () => {
  it("shows the diff in the notice's words, the fingerprint old → new and counts by topic, region and locale", async () => {
    const preview = await previewNotice(shipped(), withUkNewcomer(), {
      ...options,
      audience: { source: "counts.json", groups },
    });
    expect(preview.kind).toBe("publish");
    expect(preview.previousFingerprint).not.toBe(preview.fingerprint);
    expect(preview.markdown).toContain(`before: \`${preview.previousFingerprint}\``);
    expect(preview.markdown).toContain(`after:  \`${preview.fingerprint}\``);
    expect(preview.markdown).toContain("- Acme Support is added as a sub-processor.");
    expect(preview.markdown).toContain("- Acme Support tilføjes som underdatabehandler.");
    // 3 Danish UK followers + 5 English all-region followers; the German-only and DPA-only groups are not concerned.
    expect(preview.markdown).toContain("**8** notified, 6 not concerned");
    expect(preview.markdown).toContain("| subprocessors | United Kingdom | da | 3 |");
    expect(preview.markdown).toContain("| subprocessors | every region | en | 5 |");
    // DPA 5.2 and 5.3 in the reviewer's summary: 30 days' notice, and the objection deadline from delivery.
    expect(preview.markdown).toContain("- Takes effect: **2026-12-23** (30 days after a notice delivered 2026-11-23");
    expect(preview.markdown).toContain("Objection deadline for a notice delivered 2026-11-23: **2026-12-07**");
    expect(preview.markdown).not.toContain("@");
  });

  it("renders one da and one en email per region the change concerns, with the updated Annex C inside", async () => {
    const preview = await previewNotice(shipped(), withUkNewcomer(), {
      ...options,
      audience: { source: "", reason: "none" },
    });
    expect(preview.emails.map((e) => `${e.locale}-${e.region}`).sort()).toEqual(["da-all", "da-uk", "en-all", "en-uk"]);
    const enUk = preview.emails.find((e) => e.locale === "en" && e.region === "uk")?.email;
    expect(enUk?.subject).toContain("23 December 2026");
    expect(enUk?.html).toContain("Acme Support");
    // DPA 5.5: the notice carries the full updated Annex C, not just the new entry.
    expect(enUk?.text).toContain("Microsoft");
    // DPA 5.3: ten Danish working days from receipt on Monday 23 November 2026.
    expect(enUk?.text).toContain("7 December 2026");
    expect(enUk?.headers["List-Unsubscribe-Post"]).toBe("List-Unsubscribe=One-Click");
    expect(enUk?.text).toContain("token=PREVIEW");
  });

  it("without counts, lists who would be told with n/a and says why", async () => {
    const preview = await previewNotice(shipped(), withUkNewcomer(), {
      ...options,
      audience: { source: "", reason: "no local D1 database was found" },
    });
    expect(preview.markdown).toContain("Counts: n/a — no local D1 database was found");
    expect(preview.markdown).toContain("| subprocessors | United Kingdom | en | n/a |");
    expect(preview.markdown).not.toContain("| subprocessors | Germany |");
  });

  it("an unchanged list sends no notice", async () => {
    const preview = await previewNotice(shipped(), shipped(), { ...options, audience: { source: "x", groups } });
    expect(preview.kind).toBe("unchanged");
    expect(preview.emails).toEqual([]);
    expect(preview.markdown).toContain("sends **no notice**");
  });

  it("the first publication after a fresh deploy records a baseline and mails nobody", async () => {
    const preview = await previewNotice(undefined, shipped(), { ...options, audience: { source: "x", groups } });
    expect(preview.kind).toBe("baseline");
    expect(preview.emails).toEqual([]);
    expect(preview.markdown).toContain("**mails nobody**");
  });
});

describe("subscriber counts", () => {
  it("reads confirmed subscribers from a local D1 file built from the real migrations, grouped without addresses", async () => {
    const file = join(tmp("d1-"), "db.sqlite");
    localD1(file, [
      ["a@example.com", "da", '["subprocessors"]', "[]", "confirmed"],
      ["b@example.com", "da", '["subprocessors"]', "[]", "confirmed"],
      ["c@example.com", "en", '["subprocessors","dpa"]', '["uk"]', "confirmed"],
      ["d@example.com", "en", '["subprocessors"]', "[]", "pending"],
      ["e@example.com", "en", '["subprocessors"]', "[]", "unsubscribed"],
    ]);
    const counts = await countsFromD1(file);
    expect(counts?.sort((a, b) => a.locale.localeCompare(b.locale))).toEqual([
      { locale: "da", topics: ["subprocessors"], regions: [], count: 2 },
      { locale: "en", topics: ["subprocessors", "dpa"], regions: ["uk"], count: 1 },
    ]);
    expect(JSON.stringify(counts)).not.toContain("@");
  });

  it("finds local D1 files under .wrangler/state, and none in a fresh checkout", () => {
    expect(findLocalD1(tmp("empty-"))).toEqual([]);
    const root = tmp("started-");
    const file = join(root, ".wrangler/state/v3/d1/miniflare-D1DatabaseObject/0123.sqlite");
    localD1(file, []);
    expect(findLocalD1(root)).toEqual([file]);
  });

  it("rejects a malformed subscriber-count file with the group's position", () => {
    expect(() => parseSubscriberCounts([{ locale: "de", count: 1 }])).toThrow(/group 0: locale/);
    expect(() => parseSubscriberCounts([{ locale: "da", count: -1 }])).toThrow(/group 0: count/);
    expect(parseSubscriberCounts({ groups: [{ locale: "en" }] })).toEqual([
      { locale: "en", topics: ["subprocessors", "dpa"], regions: [], count: 1 },
    ]);
  });
});

describe("npm run preview-notice -- --base <ref>", { timeout: 30_000 }, () => {
  it("prints the preview and writes the emails for a commit that adds a sub-processor", () => {
    const dir = tmp("preview-repo-");
    cpSync("content", join(dir, "content"), { recursive: true });
    const git = (args: string[]) =>
      spawnSync("git", ["-c", "user.name=Test", "-c", "user.email=test@example.com", ...args], { cwd: dir });
    git(["init", "-q", "-b", "main"]);
    git(["add", "-A"]);
    git(["commit", "-q", "-m", "base"]);
    const aws = join(dir, "content/subprocessors/aws-europe.mdx");
    // A pending change for Canadian customers: Montreal becomes Toronto on 4 January 2027.
    const source = readFileSync(aws, "utf8").replace(/\n---\s*$/, "");
    // The 2024 step again, from 4 January 2027 and with Toronto for Canadian customers instead of Montreal.
    const step = source
      .slice(source.indexOf("  - from: 2024-07-01"))
      .replace("from: 2024-07-01", "from: 2027-01-04")
      .replace("city: Montreal", "city: Toronto");
    writeFileSync(aws, `${source}\n${step}\n---\n`);
    writeFileSync(
      join(dir, "content/changes/2027-01-04-aws-toronto.mdx"),
      `---
id: 2027-01-04-aws-toronto
announced: ${TODAY}
effective: 2027-01-04
kind: changed
aspects: [locations]
subprocessors: [aws-europe]
summary:
  da: Canadiske kunders e-mails sendes fra Toronto i stedet for Montreal.
  en: Email for Canadian customers is sent from Toronto instead of Montreal.
---
`,
    );
    const out = join(dir, "out");
    // A file the preview did not write survives; a stale email from an earlier preview does not.
    mkdirSync(out);
    writeFileSync(join(out, "notes.md"), "mine");
    writeFileSync(join(out, "en-de.html"), "stale");
    const run = spawnSync(
      process.execPath,
      ["scripts/preview-notice.ts", "--root", dir, "--base", "HEAD", "--out", out],
      {
        encoding: "utf8",
        env: { ...process.env, BUILD_DATE: TODAY },
      },
    );
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("Counts: n/a");
    expect(run.stdout).toMatch(/Amazon Web Services \(AWS Europe\): .*Toronto/);
    expect(run.stdout).toContain("| Canada |");
    for (const name of ["da-all", "en-all", "da-ca", "en-ca"]) {
      expect(existsSync(join(out, `${name}.html`))).toBe(true);
      expect(existsSync(join(out, `${name}.txt`))).toBe(true);
    }
    expect(existsSync(join(out, "en-uk.html"))).toBe(false);
    expect(existsSync(join(out, "en-de.html"))).toBe(false);
    expect(readFileSync(join(out, "notes.md"), "utf8")).toBe("mine");
    expect(readFileSync(join(out, "da-ca.html"), "utf8")).toContain('<html lang="da">');
    expect(readFileSync(join(out, "summary.md"), "utf8")).toBe(run.stdout.slice(0, run.stdout.indexOf("\nWrote")));

    // After `npm start` has run, the counts come from the local D1 (confirmed subscribers only, no addresses).
    localD1(join(dir, ".wrangler/state/v3/d1/miniflare-D1DatabaseObject/local.sqlite"), [
      ["ca1@example.com", "da", '["subprocessors"]', '["ca"]', "confirmed"],
      ["ca2@example.com", "da", '["subprocessors"]', '["ca"]', "confirmed"],
      ["uk@example.com", "en", '["subprocessors"]', '["uk"]', "confirmed"],
      ["new@example.com", "en", '["subprocessors"]', '["ca"]', "pending"],
    ]);
    const again = spawnSync(
      process.execPath,
      ["scripts/preview-notice.ts", "--root", dir, "--base", "HEAD", "--out", out],
      { encoding: "utf8", env: { ...process.env, BUILD_DATE: TODAY } },
    );
    expect(again.status).toBe(0);
    expect(again.stdout).toContain("the local D1 database (npm start): **2** notified, 1 not concerned");
    expect(again.stdout).toContain("| subprocessors | Canada | da | 2 |");
    expect(again.stdout).not.toContain("@example.com");
  });
});
