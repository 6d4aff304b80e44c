import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadContent } from "../../content-io/load-content.ts";
import { HttpsUrl } from "../../domain/schema/common.ts";
import { RULES, type Rule } from "../../domain/validate.ts";

const FIXTURES = "tests/fixtures/bad";
const TODAY = "2026-11-23";
const roots: string[] = [];

/** The shipped content with a fixture's files laid over it, in a fresh folder. */
function contentWith(fixture: string): string {
  const root = mkdtempSync(join(tmpdir(), "content-"));
  roots.push(root);
  cpSync("content", join(root, "content"), { recursive: true });
  const overlay = join(FIXTURES, fixture, "content");
  if (existsSync(overlay)) cpSync(overlay, join(root, "content"), { recursive: true });
  return root;
}

afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

interface Expectation {
  rule: Rule;
  file: string;
  field: string;
  today?: string;
}

const fixtures = readdirSync(FIXTURES).sort();

describe("content validator", () => {
  it("accepts the shipped content", () => {
    const { errors, content } = loadContent(".", TODAY);
    expect(errors).toEqual([]);
    expect(content?.subprocessors.length).toBeGreaterThan(0);
  });

  it("has a failing fixture for every rule", () => {
    const covered = new Set(
      fixtures.map((f) => (JSON.parse(readFileSync(join(FIXTURES, f, "expect.json"), "utf8")) as Expectation).rule),
    );
    expect([...covered].sort()).toEqual(Object.keys(RULES).sort());
  });

  for (const fixture of fixtures) {
    const expected = JSON.parse(readFileSync(join(FIXTURES, fixture, "expect.json"), "utf8")) as Expectation;
    it(`rejects ${fixture}: names ${expected.file}, field "${expected.field}", rule ${expected.rule}`, () => {
      const { errors, content } = loadContent(contentWith(fixture), expected.today ?? TODAY);
      expect(content).toBeUndefined();
      expect(errors).toContainEqual(
        expect.objectContaining({ rule: expected.rule, file: expected.file, field: expected.field }),
      );
      for (const error of errors) expect(error.message.length).toBeGreaterThan(10);
    });
  }

  it("the Privacy Shield fixture (modelled on a US backup provider) explains why", () => {
    const { errors } = loadContent(contentWith("privacy-shield"), TODAY);
    const error = errors.find((e) => e.rule === "privacy-shield");
    expect(error?.message).toMatch(/16 July 2020/);
    expect(error?.message).toMatch(/C-311\/18/);
  });

  it("a web address is written as the URL parser writes it, so a quote cannot end an href", () => {
    expect(HttpsUrl.parse('https://Example.com/privacy"><script>?q="x"')).toBe(
      "https://example.com/privacy%22%3E%3Cscript%3E?q=%22x%22",
    );
    expect(HttpsUrl.parse("https://sendgrid.com")).toBe("https://sendgrid.com");
    expect(HttpsUrl.parse("https://bücher.example/a b")).toBe("https://xn--bcher-kva.example/a%20b");
    for (const bad of ["http://example.com", "javascript:alert(1)", "https://user:pw@example.com", "not a url"]) {
      expect(HttpsUrl.safeParse(bad).success, bad).toBe(false);
    }
    const { errors } = loadContent(contentWith("unsafe-url"), TODAY);
    expect(errors).toContainEqual({
      file: "content/subprocessors/twilio-sendgrid.mdx",
      field: "website",
      rule: "schema",
      message: 'must name its host with letters, digits, hyphens and dots (got "send"grid.com")',
    });
  });

  it("npm run validate exits non-zero and prints file, field and rule", () => {
    const root = contentWith("notice-period");
    const run = spawnSync(process.execPath, ["scripts/validate.ts", "--root", root], {
      encoding: "utf8",
      env: { ...process.env, BUILD_DATE: TODAY },
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("content/changes/2024-07-01-moch-added.mdx: effective: [notice-period]");
    expect(run.stderr).toMatch(/30 days' written notice \(DPA 5\.2\)/);
  });

  it("npm run validate exits zero on the shipped content", () => {
    const run = spawnSync(process.execPath, ["scripts/validate.ts"], {
      encoding: "utf8",
      env: { ...process.env, BUILD_DATE: TODAY },
    });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
  });
});
