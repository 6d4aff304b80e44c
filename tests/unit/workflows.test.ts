import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { validateWorkflow } from "@action-validator/core";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

// The GitHub Actions workflows are code too: they must pass GitHub's workflow schema, call only npm scripts that exist,
// and keep secrets out of logs (secrets only reach a step through `env`, from `${{ secrets.* }}`, and no step prints
// them). tests/e2e/workflows.e2e.test.ts runs their steps.

const DIR = ".github/workflows";
const files = readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f));
const scripts = Object.keys(
  (JSON.parse(readFileSync("package.json", "utf8")) as { scripts: Record<string, string> }).scripts,
);

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  "runs-on": string;
  container?: string;
  env?: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  name: string;
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  env?: Record<string, string>;
  jobs: Record<string, Job>;
}

function load(file: string): { text: string; wf: Workflow } {
  const text = readFileSync(join(DIR, file), "utf8");
  return { text, wf: parse(text) as Workflow };
}

function steps(wf: Workflow): Step[] {
  return Object.values(wf.jobs).flatMap((j) => j.steps);
}

function runs(wf: Workflow): string {
  return steps(wf)
    .map((s) => s.run ?? "")
    .join("\n");
}

/** Variables of a step (its own, its job's and the workflow's) whose value comes from a secret. */
function secretVars(wf: Workflow, job: Job, step: Step): string[] {
  const env = { ...wf.env, ...job.env, ...step.env };
  return Object.entries(env)
    .filter(([, v]) => String(v).includes("secrets."))
    .map(([k]) => k);
}

/** `${{ <expr> }}`, written without a template-looking string literal. */
function expression(expr: string): string {
  return `$\{{ ${expr} }}`;
}

/** Script lines that could show a secret in the log: tracing, dumping the environment, or printing a secret. */
function secretLeaks(wf: Workflow): string[] {
  const leaks: string[] = [];
  for (const job of Object.values(wf.jobs)) {
    for (const step of job.steps) {
      const script = step.run ?? "";
      for (const line of script.split("\n")) {
        if (/set -x|set -o xtrace|\bprintenv\b|^\s*env\s*$/.test(line)) leaks.push(line.trim());
      }
      for (const name of secretVars(wf, job, step)) {
        for (const line of script.split("\n")) {
          if (!line.includes(`$${name}`) && !line.includes(`\${${name}}`)) continue;
          // Printing is allowed only straight into another command's stdin (a header for `curl -H @-`).
          if (/\b(echo|printf|cat)\b/.test(line) && !/\|\s*curl\b/.test(line)) leaks.push(line.trim());
          // A secret never goes into a URL, where it could end up in a log.
          if (new RegExp(`https?://[^\\s"]*\\$\\{?${name}`).test(line)) leaks.push(line.trim());
        }
      }
    }
  }
  return leaks;
}

describe("GitHub Actions workflows", () => {
  it("the leak check catches a step that echoes a secret or traces the shell", () => {
    const wf = parse(`
name: bad
on: { push: {} }
jobs:
  x:
    runs-on: ubuntu-latest
    steps:
      - env: { TOKEN: "\${{ secrets.TOKEN }}" }
        run: |
          set -x
          echo "token is $TOKEN"
          printf '%s' "$TOKEN" | curl -H @- https://example.com
`) as Workflow;
    expect(secretLeaks(wf)).toEqual(["set -x", 'echo "token is $TOKEN"']);
  });

  it("the schema check rejects a step that both uses an action and runs a script", () => {
    const bad =
      "name: bad\non: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n        runs: oops\n";
    expect(validateWorkflow(bad).errors.length).toBeGreaterThan(0);
  });

  it("CI installs exactly the lockfile, with npm ci, like .ci/run", () => {
    expect(readFileSync(".ci/run", "utf8")).toMatch(/^npm ci --no-audit --no-fund$/m);
    for (const file of files) {
      const { wf } = load(file);
      const installs = steps(wf).filter((s) => /\bnpm (ci|install|i)\b/.test(s.run ?? ""));
      expect(installs.map((s) => s.run?.trim())).toEqual(["npm ci --no-audit --no-fund"]);
      for (const job of Object.values(wf.jobs)) expect(job.env?.ASTRO_TELEMETRY_DISABLED).toBe("1");
    }
  });

  it("there is a pull-request workflow and a deploy workflow", () => {
    expect(files.sort()).toEqual(["deploy.yml", "pull-request.yml"]);
  });

  for (const file of files) {
    describe(file, () => {
      const { text, wf } = load(file);

      it("passes GitHub's workflow schema (action-validator)", () => {
        expect(validateWorkflow(text).errors).toEqual([]);
      });

      it("has a valid structure: name, triggers, read-only token, jobs with a runner and steps that use or run", () => {
        expect(typeof wf.name).toBe("string");
        expect(Object.keys(wf.on).length).toBeGreaterThan(0);
        expect(wf.permissions).toEqual({ contents: "read" });
        for (const job of Object.values(wf.jobs)) {
          expect(typeof job["runs-on"]).toBe("string");
          expect(job.steps.length).toBeGreaterThan(0);
          for (const step of job.steps) {
            expect(Boolean(step.uses) !== Boolean(step.run)).toBe(true);
            if (step.uses) expect(step.uses).toMatch(/^[\w.-]+\/[\w.-]+@v\d+$/);
          }
        }
      });

      it("every `npm run X` names a script in package.json", () => {
        const used = [...runs(wf).matchAll(/npm run (?:--silent )?([\w:-]+)/g)].map((m) => m[1]);
        expect(used.length).toBeGreaterThan(0);
        for (const name of used) expect(scripts).toContain(name);
      });

      it("reads secrets only as secrets.* expressions into env, never inline in a script", () => {
        for (const match of text.matchAll(/secrets\.\w+/g)) {
          const line = text.slice(text.lastIndexOf("\n", match.index) + 1, text.indexOf("\n", match.index));
          expect(line).toMatch(/^\s+[A-Z_]+: \$\{\{ (vars\.\w+ \|\| )?secrets\.\w+ \}\}$/);
        }
        // No expression is expanded inside a script at all: values reach scripts as environment variables, so
        // neither a secret nor an attacker-controlled string (a branch name) can become shell code.
        for (const step of steps(wf)) expect(step.run ?? "").not.toContain("${{");
      });

      it("never prints a secret", () => {
        expect(secretLeaks(wf)).toEqual([]);
      });
    });
  }

  describe("pull-request.yml", () => {
    const { wf } = load("pull-request.yml");
    const job = Object.values(wf.jobs)[0] as Job;
    const script = runs(wf);

    it("runs on pull requests with the whole history, so the base branch can be compared", () => {
      expect(Object.keys(wf.on)).toContain("pull_request");
      const checkout = job.steps.find((s) => s.uses?.startsWith("actions/checkout@"));
      expect(checkout?.with?.["fetch-depth"]).toBe(0);
    });

    it("installs, validates against the base branch, tests, builds and previews the notice into the job summary", () => {
      expect(job.env?.BASE_REF).toBe(expression("github.base_ref"));
      const order = [
        "npm ci",
        'npm run validate -- --base "origin/$BASE_REF"',
        "npm test",
        "npm run build",
        'preview-notice -- --base "origin/$BASE_REF"',
        '>> "$GITHUB_STEP_SUMMARY"',
      ].map((s) => script.indexOf(s));
      expect(order.every((i) => i >= 0)).toBe(true);
      expect([...order].sort((a, b) => a - b)).toEqual(order);
    });

    it("has Chromium for the browser tests (they fail under CI=true without it)", () => {
      expect(job.env?.CI).toBe("true");
      expect(script).toMatch(/apt-get install[^\n]*\\\n[^\n]*chromium|apt-get install[^\n]*chromium/);
    });
  });

  describe("deploy.yml", () => {
    const { wf } = load("deploy.yml");
    const script = runs(wf);

    it("deploys on every push to main, daily (so a change is shown in effect on its date) and on demand", () => {
      expect(wf.on.push).toEqual({ branches: ["main"] });
      expect(wf.on.schedule).toEqual([{ cron: expect.stringMatching(/^\d+ \d+ \* \* \*$/) }]);
      expect(Object.keys(wf.on)).toContain("workflow_dispatch");
    });

    it("builds, applies D1 migrations remotely, deploys, then calls POST /api/admin/publish with the admin token", () => {
      const order = [
        "npm run build",
        "wrangler d1 migrations apply DB --remote",
        "wrangler deploy",
        "/api/admin/publish",
      ].map((s) => script.indexOf(s));
      expect(order.every((i) => i >= 0)).toBe(true);
      expect([...order].sort((a, b) => a - b)).toEqual(order);
      const publish = steps(wf).find((s) => s.run?.includes("/api/admin/publish"));
      expect(publish?.env).toEqual({ ADMIN_TOKEN: expression("secrets.ADMIN_TOKEN") });
      expect(publish?.run).toContain("Authorization: Bearer");
      expect(publish?.run).toContain("--fail-with-body");
    });

    it("refuses the outbox transport: checks, before migrating or deploying, the transport the deploy passes", () => {
      const job = Object.values(wf.jobs)[0] as Job;
      expect(job.env?.EMAIL_TRANSPORT).toBe("resend");
      const order = ["npm run check-deploy", "wrangler d1 migrations apply", "wrangler deploy"].map((s) =>
        script.indexOf(s),
      );
      expect(order.every((i) => i >= 0)).toBe(true);
      expect([...order].sort((a, b) => a - b)).toEqual(order);
      const deploy = steps(wf).find((s) => /^\s*npx wrangler deploy\b/m.test(s.run ?? ""));
      expect(deploy?.run).toContain('--var "EMAIL_TRANSPORT:$EMAIL_TRANSPORT"');
      expect(deploy?.env?.EMAIL_TRANSPORT).toBeUndefined();
      expect(scripts).toContain("check-deploy");
    });

    it("gives Cloudflare credentials only to the steps that talk to Cloudflare", () => {
      for (const step of steps(wf)) {
        const cloudflare = /^\s*npx wrangler (d1|deploy)\b/m.test(step.run ?? "");
        expect(step.env?.CLOUDFLARE_API_TOKEN !== undefined).toBe(cloudflare);
        expect(step.env?.CLOUDFLARE_ACCOUNT_ID !== undefined).toBe(cloudflare);
      }
    });
  });

  describe("scripts/check-deploy-config.ts", () => {
    const check = (env: Record<string, string>) =>
      spawnSync(process.execPath, ["scripts/check-deploy-config.ts"], {
        encoding: "utf8",
        env: { PATH: process.env.PATH ?? "", ...env },
      });
    const PUBLIC = "https://subprocessors.example.com";

    it("lets a deploy with resend and a public https origin go ahead", () => {
      const run = check({ EMAIL_TRANSPORT: "resend", PUBLIC_BASE_URL: PUBLIC });
      expect(run.stderr).toBe("");
      expect(run.status).toBe(0);
    });

    it.each([
      ["the outbox transport", { EMAIL_TRANSPORT: "outbox", PUBLIC_BASE_URL: PUBLIC }, /EMAIL_TRANSPORT is "outbox"/],
      ["no transport (wrangler.toml's outbox)", { PUBLIC_BASE_URL: PUBLIC }, /EMAIL_TRANSPORT is not set/],
      ["a loopback origin", { EMAIL_TRANSPORT: "resend", PUBLIC_BASE_URL: "http://127.0.0.1:8787" }, /PUBLIC_BASE_URL/],
      ["https on localhost", { EMAIL_TRANSPORT: "resend", PUBLIC_BASE_URL: "https://localhost" }, /PUBLIC_BASE_URL/],
      ["no origin", { EMAIL_TRANSPORT: "resend" }, /PUBLIC_BASE_URL/],
      [
        "the local-webhook switch",
        { EMAIL_TRANSPORT: "resend", PUBLIC_BASE_URL: PUBLIC, WEBHOOK_ALLOW_LOCAL_HTTP: "1" },
        /WEBHOOK_ALLOW_LOCAL_HTTP is set/,
      ],
    ])("refuses %s with exit code 1 and says why", (_, env, message) => {
      const run = check(env);
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(message);
    });

    it("refuses a wrangler.toml whose [vars] set WEBHOOK_ALLOW_LOCAL_HTTP; a comment or another table is no setting", () => {
      const dir = mkdtempSync(join(tmpdir(), "check-deploy-"));
      const toml = join(dir, "wrangler.toml");
      writeFileSync(toml, '[vars]\nEMAIL_FROM = "x"\nWEBHOOK_ALLOW_LOCAL_HTTP = "1"\n\n[triggers]\ncrons = []\n');
      const run = check({ EMAIL_TRANSPORT: "resend", PUBLIC_BASE_URL: PUBLIC, WRANGLER_TOML: toml });
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(/wrangler.toml \[vars\] sets WEBHOOK_ALLOW_LOCAL_HTTP/);
      // Named only in a comment or in another table, it is not set.
      writeFileSync(toml, '[vars]\n# WEBHOOK_ALLOW_LOCAL_HTTP = "1"\n[env.dev.vars]\nX = "1"\n');
      expect(check({ EMAIL_TRANSPORT: "resend", PUBLIC_BASE_URL: PUBLIC, WRANGLER_TOML: toml }).status).toBe(0);
      rmSync(dir, { recursive: true });
    });

    it("in GitHub Actions, reports each problem as an error annotation", () => {
      const run = check({ GITHUB_ACTIONS: "true", EMAIL_TRANSPORT: "outbox", PUBLIC_BASE_URL: PUBLIC });
      expect(run.stderr).toMatch(/^::error title=Deploy configuration::EMAIL_TRANSPORT is "outbox"/);
    });
  });
});
