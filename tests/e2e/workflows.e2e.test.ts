// The GitHub workflows, run for real rather than read: every `run:` step of the pull-request workflow, in order, in a
// fresh clone whose `origin` is a local bare repository holding the base branch and the pull request's branch (as
// actions/checkout leaves it); and every step of the deploy workflow against local stand-ins for Cloudflare:
// `wrangler deploy --dry-run`, the D1 migrations on a local database, and the publish call against a local server
// on that database. A step that would fail on GitHub fails here. Steps are taken from the YAML, so a step added to a
// workflow runs here too; a step that would talk to Cloudflare and that this test cannot point elsewhere fails it.
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { TOOL_ENV } from "../../scripts/lib/tool-env.ts";
import { freePort, type Portal, REPO_ROOT, startPortal } from "../../testing/portal.ts";

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  env?: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  env?: Record<string, string>;
  jobs: Record<string, Job>;
}

const work = mkdtempSync(join(tmpdir(), "portal-workflows-"));
const origin = join(work, "origin.git");
const BASE = "main";
const PR_BRANCH = "pr-branch";
const DEV_ADMIN_TOKEN = /^ADMIN_TOKEN=(.+)$/m.exec(readFileSync(join(REPO_ROOT, ".dev.vars.example"), "utf8"))?.[1];

afterAll(() => rmSync(work, { recursive: true, force: true }));

function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    env: {
      ...runnerEnv(),
      GIT_AUTHOR_NAME: "t",
      GIT_AUTHOR_EMAIL: "t@example.com",
      GIT_COMMITTER_NAME: "t",
      GIT_COMMITTER_EMAIL: "t@example.com",
    },
  }).trim();
}

/**
 * The environment of a fresh runner: none of this test's own (npm's, Vitest's, NODE_ENV, this checkout's
 * node_modules/.bin on PATH), a git config of its own (steps may write the global one), and the tools kept off the
 * network, which only this machine lacks.
 */
function runnerEnv(): NodeJS.ProcessEnv {
  const keep = ["HOME", "USER", "LANG", "TMPDIR", "TERM"];
  const env: NodeJS.ProcessEnv = { ...TOOL_ENV, GIT_CONFIG_GLOBAL: join(work, "gitconfig"), CI: "true" };
  for (const key of keep) if (process.env[key] !== undefined) env[key] = process.env[key];
  env.PATH = (process.env.PATH ?? "")
    .split(delimiter)
    .filter((p) => !p.includes("node_modules"))
    .join(delimiter);
  return env;
}

/** The repository as the pull request has it: the base branch is HEAD; the branch adds the working tree on top. */
function makeOrigin(): void {
  git(work, "init", "-q", "--bare", "--initial-branch", BASE, origin);
  git(REPO_ROOT, "push", "-q", origin, `HEAD:refs/heads/${BASE}`);
  const author = join(work, "author");
  git(work, "clone", "-q", origin, author);
  git(author, "checkout", "-q", "-b", PR_BRANCH);
  git(author, "rm", "-rq", "--ignore-unmatch", ".");
  const files = git(REPO_ROOT, "ls-files", "-co", "--exclude-standard", "-z").split("\0").filter(Boolean);
  for (const file of files) {
    if (!existsSync(join(REPO_ROOT, file))) continue;
    mkdirSync(dirname(join(author, file)), { recursive: true });
    cpSync(join(REPO_ROOT, file), join(author, file));
  }
  git(author, "add", "-A");
  git(author, "commit", "-q", "--allow-empty", "-m", "The pull request");
  git(author, "push", "-q", "origin", PR_BRANCH);
}

const expressions: Record<string, string> = {
  "github.base_ref": BASE,
  "github.event.pull_request.number": "1",
  "vars.EMAIL_FROM": "Notices <notices@example.com>",
  "vars.VENDOR_ALERT_EMAIL": "privacy@example.com",
  "secrets.CLOUDFLARE_API_TOKEN": "not-a-real-token",
  "secrets.CLOUDFLARE_ACCOUNT_ID": "not-a-real-account",
  "secrets.ADMIN_TOKEN": DEV_ADMIN_TOKEN ?? "",
};

/** `${{ expr }}` replaced as GitHub would; an expression this test does not know fails it. */
function expand(value: unknown): string {
  return String(value).replace(/\$\{\{\s*(.+?)\s*\}\}/g, (_, expr: string) => {
    const known = expressions[expr];
    if (known === undefined) throw new Error(`the workflow uses \${{ ${expr} }}, which this test does not set`);
    return known;
  });
}

interface Ran {
  step: string;
  skipped?: string;
  output: string;
}

interface Runner {
  workspace: string;
  summary: string;
  /** A step's script as it runs here (Cloudflare calls pointed at local stand-ins); undefined runs it as written. */
  rewrite?: (script: string) => string;
  /** Steps that cannot run here, with the reason. */
  skip?: (step: Step) => string | undefined;
  /** Called before a step runs (e.g. to start the local server the publish step calls). */
  before?: (step: Step) => Promise<void>;
}

function stepName(step: Step): string {
  return step.name ?? step.uses ?? step.run?.split("\n")[0] ?? "(step)";
}

/** actions/checkout: a clone of `ref` with the depth the step asks for (1 unless `fetch-depth`). */
function checkout(step: Step, workspace: string, ref: string): void {
  const depth = Number(step.with?.["fetch-depth"] ?? 1);
  const args =
    depth === 0 ? ["clone", "-q", origin, workspace] : ["clone", "-q", "--depth", String(depth), origin, workspace];
  if (depth !== 0) args.push("--branch", ref, "--single-branch");
  git(work, ...args);
  git(workspace, "checkout", "-q", "--detach", depth === 0 ? `origin/${ref}` : ref);
}

/**
 * Before its first production deploy a vendor replaces the example's placeholder mailbox and confirms every address
 * and contact point (README "Facts the DPA does not state", rule unconfirmed-contact). Done here as staff would in
 * their content: every `unconfirmed` flag dropped, `.example` mailboxes replaced, a missing entity address filled in.
 */
function confirmContactData(dir: string): void {
  const confirm = (value: unknown, key?: string): unknown => {
    if (Array.isArray(value)) return value.map((v) => confirm(v));
    if (typeof value === "string") return value.replace(/@([a-z0-9-]+)\.example\b/gi, "@$1-confirmed.eu");
    if (value === null || typeof value !== "object") return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (k !== "unconfirmed") out[k] = confirm(v, k);
    if (key === "entity" && !("address" in out))
      out.address = { street: "Confirmed Street 1", city: "Dublin", country: "IE" };
    return out;
  };
  const vendor = join(dir, "content/vendor.yaml");
  writeFileSync(vendor, stringify(confirm(parse(readFileSync(vendor, "utf8")))));
  for (const sub of ["subprocessors", "changes"]) {
    for (const name of readdirSync(join(dir, "content", sub))) {
      const path = join(dir, "content", sub, name);
      const match = /^---\r?\n([\s\S]*?)\r?\n---\r?\n?/.exec(readFileSync(path, "utf8"));
      if (!match) continue;
      const body = readFileSync(path, "utf8").slice(match[0].length);
      writeFileSync(path, `---\n${stringify(confirm(parse(match[1] ?? "")))}---\n${body}`);
    }
  }
}

async function runJob(file: string, ref: string, runner: Runner): Promise<Ran[]> {
  const wf = parse(readFileSync(join(REPO_ROOT, ".github/workflows", file), "utf8")) as Workflow;
  const job = Object.values(wf.jobs)[0] as Job;
  const ran: Ran[] = [];
  writeFileSync(runner.summary, "");
  for (const step of job.steps) {
    const name = stepName(step);
    if (step.uses?.startsWith("actions/checkout@")) {
      checkout(step, runner.workspace, ref);
      ran.push({ step: name, output: "" });
      continue;
    }
    if (step.uses?.startsWith("actions/upload-artifact@")) {
      const path = join(runner.workspace, expand(step.with?.path));
      if (!existsSync(path) && step.with?.["if-no-files-found"] !== "ignore")
        throw new Error(`${file}: "${name}" has no files at ${step.with?.path}`);
      ran.push({ step: name, output: existsSync(path) ? `would upload ${step.with?.path}` : "nothing to upload" });
      continue;
    }
    if (step.uses) throw new Error(`${file}: this test does not know the action ${step.uses} ("${name}")`);

    const skipped = runner.skip?.(step);
    if (skipped) {
      ran.push({ step: name, skipped, output: "" });
      continue;
    }
    await runner.before?.(step);
    const script = runner.rewrite ? runner.rewrite(step.run ?? "") : (step.run ?? "");
    const env: NodeJS.ProcessEnv = { ...runnerEnv(), GITHUB_ACTIONS: "true" };
    for (const [k, v] of Object.entries({ ...wf.env, ...job.env, ...step.env })) env[k] = expand(v);
    env.GITHUB_WORKSPACE = runner.workspace;
    env.GITHUB_STEP_SUMMARY = runner.summary;
    // GitHub's default shell for `run:` on Linux.
    const result = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", script], {
      cwd: runner.workspace,
      env,
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    });
    const output = `${result.stdout}${result.stderr}`;
    if (result.status !== 0)
      throw new Error(
        `${file}: step "${name}" failed (exit ${result.status ?? result.signal}):\n${output.slice(-6000)}`,
      );
    ran.push({ step: name, output });
  }
  return ran;
}

describe("pull-request.yml, run step by step in a fresh clone of a pull request", () => {
  const workspace = join(work, "pr");
  const summary = join(work, "pr-summary.md");
  let ran: Ran[] = [];

  it("every step passes", { timeout: 600_000 }, async () => {
    makeOrigin();
    ran = await runJob("pull-request.yml", PR_BRANCH, {
      workspace,
      summary,
      skip: (step) => {
        // The container's packages: Debian's git, Node 20, npm and Chromium are what this machine runs on too, and
        // installing them here would change the machine.
        if (/apt-get install/.test(step.run ?? "")) {
          for (const tool of ["git", "node", "npm"])
            expect(spawnSync(tool, ["--version"], { env: runnerEnv() }).status, `${tool} on PATH`).toBe(0);
          return "packages of the runner's container (present on this machine)";
        }
        // This test is part of `npm test`; running it again from inside itself would never end.
        if ((step.run ?? "").trim() === "npm test") return "npm test is what runs this test";
        return undefined;
      },
    });
    expect(ran.filter((r) => !r.skipped).map((r) => r.step)).toEqual(
      expect.arrayContaining([
        "npm ci --no-audit --no-fund",
        "Validate content against the base branch",
        "npm run build",
        "Preview the notice",
      ]),
    );
    expect(ran.filter((r) => r.skipped).length).toBe(2);
  });

  it("the checkout is the pull request with its base branch to compare with", () => {
    expect(git(workspace, "rev-parse", `origin/${BASE}`)).toBe(git(REPO_ROOT, "rev-parse", "HEAD"));
    expect(git(workspace, "log", "-1", "--format=%s")).toBe("The pull request");
  });

  it("installed exactly the lockfile, built the site and wrote the notice preview into the job summary", () => {
    expect(git(workspace, "status", "--porcelain", "--untracked-files=no")).toBe("");
    expect(existsSync(join(workspace, "dist", "en", "index.html"))).toBe(true);
    const validate = ran.find((r) => r.step === "Validate content against the base branch");
    expect(validate?.output).toContain("content is valid");
    expect(readFileSync(summary, "utf8")).toMatch(/fingerprint/i);
  });
});

describe("deploy.yml, run step by step against a local D1 and wrangler deploy --dry-run", () => {
  const workspace = join(work, "deploy");
  const summary = join(work, "deploy-summary.md");
  const state = join(work, "d1-state");
  const out = join(work, "deploy-out");
  let portal: Portal | undefined;
  let ran: Ran[] = [];

  afterAll(async () => {
    await portal?.stop();
  });

  it("every step passes once the repository is configured", { timeout: 600_000 }, async () => {
    if (!existsSync(origin)) makeOrigin();
    const port = await freePort();
    // A public https:// origin, as the deploy checks demand; only the publish call is sent to the local server.
    expressions["vars.PUBLIC_BASE_URL"] = "https://portal.example";
    let configured = false;
    ran = await runJob("deploy.yml", PR_BRANCH, {
      workspace,
      summary,
      before: async (step) => {
        if (!configured) {
          // README "Deploying to Cloudflare", step 2: the id `wrangler d1 create` printed goes into wrangler.toml.
          const toml = join(workspace, "wrangler.toml");
          const text = readFileSync(toml, "utf8");
          expect(text).toContain('database_id = "00000000-0000-0000-0000-000000000000"');
          writeFileSync(
            toml,
            text.replace(/database_id = "[^"]+"/, 'database_id = "1b2c3d4e-0000-4000-8000-00000000d1d1"'),
          );
          configured = true;
        }
        // The production build refuses the shipped example's unconfirmed contact data; a configured repository has it.
        if ((step.run ?? "").trim() === "npm run build") {
          const refused = spawnSync(process.execPath, ["scripts/validate.ts"], {
            cwd: workspace,
            env: { ...runnerEnv(), PORTAL_BUILD: "production" },
            encoding: "utf8",
          });
          expect(refused.status, "a production build of the example content must fail").not.toBe(0);
          expect(`${refused.stdout}${refused.stderr}`).toContain("unconfirmed-contact");
          confirmContactData(workspace);
        }
        // The publish step calls the deployed worker: here, a local server on the database just migrated.
        if ((step.run ?? "").includes("/api/admin/publish"))
          portal = await startPortal({ dir: workspace, port, args: ["--no-build", "--persist-to", state] });
      },
      rewrite: (script) => {
        const local = script
          .replace(
            "wrangler d1 migrations apply DB --remote",
            `wrangler d1 migrations apply DB --local --persist-to ${state}`,
          )
          .replace(/wrangler deploy\b/, `wrangler deploy --dry-run --outdir ${out}`);
        if (/^\s*(npx )?wrangler\b/m.test(script) && local === script)
          throw new Error(`a step calls wrangler in a way this test cannot keep local:\n${script}`);
        if (/--remote\b/.test(local)) throw new Error(`a step would still reach Cloudflare:\n${local}`);
        // The deployed worker's address, here: the local server on the database just migrated.
        if (local.includes("/api/admin/publish")) return `PUBLIC_BASE_URL=http://127.0.0.1:${port}\n${local}`;
        return local;
      },
    });
    expect(ran.map((r) => r.step)).toEqual(
      expect.arrayContaining([
        "Check the deployment is configured",
        "npm ci --no-audit --no-fund",
        "Refuse to deploy with the outbox transport",
        "npm run build",
        "Apply D1 migrations",
        "Deploy the worker and the site",
        "Publish (notify subscribers if Annex C changed)",
      ]),
    );
    expect(ran.filter((r) => r.skipped)).toEqual([]);
  });

  it("bundled the worker, migrated the database and published against it", () => {
    expect(existsSync(join(out, "index.js"))).toBe(true);
    const migrations = git(REPO_ROOT, "ls-files", "worker/migrations").split("\n").filter(Boolean).length;
    const applied = ran.find((r) => r.step === "Apply D1 migrations")?.output ?? "";
    expect(applied.match(/✅/g)?.length ?? 0).toBeGreaterThanOrEqual(migrations);
    const publish = ran.find((r) => r.step === "Publish (notify subscribers if Annex C changed)");
    expect(publish?.output).toMatch(/baseline|unchanged|published/);
  });

  it("refuses to run on a repository that was not configured, naming what to set", () => {
    const wf = parse(readFileSync(join(REPO_ROOT, ".github/workflows/deploy.yml"), "utf8")) as Workflow;
    const check = (Object.values(wf.jobs)[0] as Job).steps.find((s) => s.name === "Check the deployment is configured");
    git(workspace, "checkout", "-q", "--", "wrangler.toml");
    const result = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", check?.run ?? "false"], {
      cwd: workspace,
      env: { ...runnerEnv(), PUBLIC_BASE_URL: "https://portal.example", EMAIL_FROM: "x", VENDOR_ALERT_EMAIL: "y" },
      encoding: "utf8",
    });
    expect(result.status).toBe(1);
    expect(result.stdout).toContain("::error file=wrangler.toml::");
    const unset = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", check?.run ?? "false"], {
      cwd: workspace,
      env: runnerEnv(),
      encoding: "utf8",
    });
    expect(unset.status).toBe(1);
    expect(unset.stdout).toContain("set the repository variables: PUBLIC_BASE_URL EMAIL_FROM VENDOR_ALERT_EMAIL");
  });
});
