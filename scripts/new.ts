// `npm run new -- subprocessor [flags]` and `npm run new -- change [flags]`: scaffold content for a pull request.
// Missing flags are asked for when run in a terminal; otherwise they become TODO placeholders. Today's date
// (Copenhagen) is the announced date and the earliest date DPA 5.2 allows is the effective date. The validator then
// runs on the result and prints what is left to fill in. Run with --help for the flags.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { createInterface } from "node:readline/promises";
import { parseArgs } from "node:util";
import { type Document, parseDocument, stringify, type YAMLSeq } from "yaml";
import { frontmatter, loadContent } from "../content-io/load-content.ts";
import { buildDate } from "../content-io/today.ts";
import { stateOn } from "../domain/annex.ts";
import { earliestEffectiveDate } from "../domain/calendar.ts";
import { isInEEA } from "../domain/countries.ts";
import { CHANGE_ASPECTS, type ChangeAspect } from "../domain/schema/change.ts";
import { SubProcessor } from "../domain/schema/subprocessor.ts";
import { TRANSFER_MECHANISMS } from "../domain/schema/transfer.ts";
import { Vendor } from "../domain/schema/vendor.ts";
import { formatError } from "../domain/validate.ts";

const TODO = "TODO";

const HELP = `Scaffold content for a pull request.

  npm run new -- subprocessor --id acme-support --name "Acme Support" [more flags]
      Creates content/subprocessors/<id>.mdx and its "added" change entry in content/changes/.
      --relationship affiliate|third-party  --website https://…  --contact-email …  --contact-url https://…
      --entity "Legal name"  --registration …  --street …  --postal-code …  --city …  --entity-country DK
      --purpose-da …  --purpose-en …  --services a,b  --data-categories a,b
      --country GB  --location-city Leeds  --regions uk,de  --cohorts current
      --transfer adequacy|eu-us-dpf|scc-2021|uk-idta|bcr  --scc-module 3  --transfer-reference …

  npm run new -- change --subprocessor <id>[,<id>…] --kind added|removed|changed [--aspects locations,…]
      Creates content/changes/<effective>-<id>-<kind>.mdx and adds the matching dated step to each
      sub-processor's timeline (removed: a removal step; changed: a step with the current values of the
      aspects, for you to edit).

  Both: --summary-da …  --summary-en …  --announced YYYY-MM-DD  --effective YYYY-MM-DD  --root <dir>
  --announced defaults to today (Copenhagen); --effective to announced + the notice period (DPA 5.2).
`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    help: { type: "boolean", short: "h" },
    root: { type: "string", default: "." },
    id: { type: "string" },
    name: { type: "string" },
    relationship: { type: "string" },
    website: { type: "string" },
    "contact-email": { type: "string" },
    "contact-url": { type: "string" },
    entity: { type: "string" },
    registration: { type: "string" },
    street: { type: "string" },
    "postal-code": { type: "string" },
    city: { type: "string" },
    "entity-country": { type: "string" },
    "purpose-da": { type: "string" },
    "purpose-en": { type: "string" },
    services: { type: "string" },
    "data-categories": { type: "string" },
    country: { type: "string" },
    "location-city": { type: "string" },
    regions: { type: "string" },
    cohorts: { type: "string" },
    transfer: { type: "string" },
    "scc-module": { type: "string" },
    "transfer-reference": { type: "string" },
    subprocessor: { type: "string" },
    kind: { type: "string" },
    aspects: { type: "string" },
    "summary-da": { type: "string" },
    "summary-en": { type: "string" },
    announced: { type: "string" },
    effective: { type: "string" },
  },
});

const what = positionals[0];
if (values.help || (what !== "subprocessor" && what !== "change")) {
  console.log(HELP);
  process.exit(values.help ? 0 : 2);
}

const root = values.root ?? ".";
const contentDir = join(root, "content");
const vendorResult = Vendor.safeParse(
  (() => {
    try {
      return parseDocument(readFileSync(join(contentDir, "vendor.yaml"), "utf8")).toJS();
    } catch {
      return undefined;
    }
  })(),
);
if (!vendorResult.success) {
  console.error(`✖ ${join(contentDir, "vendor.yaml")} is missing or invalid: run npm run validate first.`);
  process.exit(1);
}
const vendor = vendorResult.data;
const today = buildDate();

// Prompts only in a terminal; a script or CI run gets TODO placeholders and the validator's list instead.
const rl = process.stdin.isTTY ? createInterface({ input: process.stdin, output: process.stdout }) : undefined;

async function ask(flag: keyof typeof values, question: string, fallback?: string): Promise<string | undefined> {
  const given = values[flag];
  if (typeof given === "string" && given !== "") return given;
  if (!rl) return fallback;
  const answer = (await rl.question(`${question}${fallback ? ` [${fallback}]` : ""}: `)).trim();
  return answer || fallback;
}

function list(value: string | undefined): string[] | undefined {
  const items = value
    ?.split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  return items && items.length > 0 ? items : undefined;
}

function slugify(s: string): string {
  return s
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/æ/g, "ae")
    .replace(/ø/g, "oe")
    .replace(/å/g, "aa")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
}

async function dates(): Promise<{ announced: string; effective: string }> {
  const announced = (await ask("announced", "Announced (the date the notice is given)", today)) ?? today;
  const earliest = /^\d{4}-\d{2}-\d{2}$/.test(announced)
    ? earliestEffectiveDate(announced, vendor.noticePeriodDays)
    : TODO;
  const effective =
    (await ask(
      "effective",
      `Effective (DPA 5.2: no earlier than ${vendor.noticePeriodDays} days after announced)`,
      earliest,
    )) ?? earliest;
  return { announced, effective };
}

async function summary(): Promise<{ da: string; en: string }> {
  return {
    da: (await ask("summary-da", "Summary in Danish (one or two sentences for the change log and the notice)")) ?? TODO,
    en: (await ask("summary-en", "Summary in English")) ?? TODO,
  };
}

function mdx(header: string, data: unknown): string {
  return `---\n# ${header}\n${stringify(data, { lineWidth: 0, flowCollectionPadding: false })}---\n`;
}

function refuseOverwrite(path: string): void {
  if (existsSync(path)) {
    console.error(`✖ ${path} already exists; nothing was written.`);
    process.exit(1);
  }
}

const written: string[] = [];
const reminders: string[] = [];

function write(path: string, text: string): void {
  writeFileSync(path, text);
  written.push(path);
}

async function newSubprocessor(): Promise<void> {
  const name = (await ask("name", "Name customers know the service by")) ?? TODO;
  const id = (await ask("id", "Id (file name; lower-case words joined by hyphens)", slugify(name))) ?? "todo";
  const file = join(contentDir, "subprocessors", `${id}.mdx`);
  refuseOverwrite(file);
  const relationship = (await ask("relationship", "Relationship: affiliate or third-party", "third-party")) ?? TODO;
  const website = (await ask("website", "Website (https://…)")) ?? TODO;
  const contactEmail = await ask("contact-email", "Privacy contact email (EDPB Opinion 22/2024)");
  const contactUrl = await ask("contact-url", "Privacy contact page (https://…), if any");
  const entityName = (await ask("entity", "Legal entity name", name)) ?? TODO;
  const street = (await ask("street", "Street address of the legal entity")) ?? TODO;
  const postalCode = await ask("postal-code", "Postal code");
  const city = (await ask("city", "City")) ?? TODO;
  const entityCountry =
    (await ask("entity-country", "Country of the entity (ISO code, e.g. DK)", values.country)) ?? TODO;
  const registration = await ask("registration", "Company registration number, if known");
  const purposeDa = (await ask("purpose-da", "Purpose in Danish")) ?? TODO;
  const purposeEn = (await ask("purpose-en", "Purpose in English")) ?? TODO;
  const services = list(
    await ask("services", `Services, comma-separated (${Object.keys(vendor.services).join(", ")})`),
  );
  const categories = list(
    await ask("data-categories", `Data categories, comma-separated (${Object.keys(vendor.dataCategories).join(", ")})`),
  );
  const country = (await ask("country", "Processing location country (ISO code, e.g. IE)", entityCountry)) ?? TODO;
  const locationCity = await ask("location-city", "Processing location city or data-centre area", city);
  const regions = list(
    await ask("regions", `Only for customer regions (${vendor.regions.map((r) => r.id).join(", ")}); empty = all`),
  );
  const cohorts = list(
    await ask("cohorts", `Only for cohorts (${vendor.cohorts.map((c) => c.id).join(", ")}); empty = all`),
  );
  const outside = /^[A-Z]{2}$/.test(country) && !isInEEA(country);
  const mechanism = outside
    ? await ask(
        "transfer",
        `${country} is outside the EEA: transfer mechanism (${TRANSFER_MECHANISMS.slice(0, -1).join(", ")})`,
        // GDPR Chapter V: a placeholder the schema rejects, so the validator lists it as left to fill in.
        TODO,
      )
    : values.transfer;
  const sccModule = mechanism === "scc-2021" ? await ask("scc-module", "SCC module (2 or 3)", "3") : undefined;
  const reference = mechanism ? await ask("transfer-reference", "Where the mechanism is documented") : undefined;
  const { announced, effective } = await dates();
  const text = await summary();

  const sp = {
    id,
    relationship,
    website,
    contact: { ...(contactEmail ? { email: contactEmail } : {}), ...(contactUrl ? { url: contactUrl } : {}) },
    timeline: [
      {
        from: effective,
        name,
        entity: {
          name: entityName,
          ...(registration ? { registration } : {}),
          address: { street, ...(postalCode ? { postalCode } : {}), city, country: entityCountry },
        },
        purpose: { da: purposeDa, en: purposeEn },
        services: services ?? [TODO],
        dataCategories: categories ?? [TODO],
        locations: [
          {
            country,
            ...(locationCity ? { city: locationCity } : {}),
            ...(regions || cohorts
              ? { appliesTo: [{ ...(regions ? { regions } : {}), ...(cohorts ? { cohorts } : {}) }] }
              : {}),
            ...(mechanism
              ? {
                  transfer: {
                    mechanism,
                    ...(sccModule ? { sccModule: Number(sccModule) } : {}),
                    ...(reference ? { reference } : {}),
                  },
                }
              : {}),
          },
        ],
      },
    ],
  };
  if (!contactEmail && !contactUrl) sp.contact = { email: TODO };
  const changeId = `${effective}-${id}-added`;
  const changeFile = join(contentDir, "changes", `${changeId}.mdx`);
  refuseOverwrite(changeFile);
  write(
    file,
    mdx("Scaffolded by npm run new; every step in the timeline needs a change entry with the same date.", sp),
  );
  write(
    changeFile,
    mdx("The notice for the new sub-processor (DPA 5.2).", {
      id: changeId,
      announced,
      effective,
      kind: "added",
      subprocessors: [id],
      summary: text,
    }),
  );
}

function appendStep(path: string, step: Record<string, unknown>, comment: string): number {
  const source = readFileSync(path, "utf8");
  const match = /^---\r?\n([\s\S]*?)\r?\n---\r?\n?/.exec(source);
  if (!match) throw new Error(`${path} has no frontmatter`);
  const doc: Document = parseDocument(match[1] ?? "");
  const timeline = doc.get("timeline", true) as YAMLSeq | undefined;
  if (!timeline || !Array.isArray(timeline.items)) throw new Error(`${path} has no timeline`);
  const node = doc.createNode(step);
  node.commentBefore = ` ${comment}`;
  timeline.add(node);
  writeFileSync(
    path,
    `---\n${doc.toString({ lineWidth: 0, flowCollectionPadding: false })}---\n${source.slice(match[0].length)}`,
  );
  written.push(path);
  return timeline.items.length - 1;
}

async function newChange(): Promise<void> {
  const ids = list(await ask("subprocessor", "Sub-processor id(s), comma-separated")) ?? [];
  if (ids.length === 0) {
    console.error("✖ name the sub-processor(s) with --subprocessor <id>.");
    process.exit(2);
  }
  const files = ids.map((id) => join(contentDir, "subprocessors", `${id}.mdx`));
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length > 0) {
    console.error(`✖ no such sub-processor: ${missing.join(", ")} (to add one, run npm run new -- subprocessor).`);
    process.exit(1);
  }
  const kind = (await ask("kind", "Kind: added, removed or changed", "changed")) ?? "changed";
  if (kind !== "added" && kind !== "removed" && kind !== "changed") {
    console.error(`✖ --kind must be added, removed or changed, not "${kind}".`);
    process.exit(2);
  }
  const aspects =
    kind === "changed"
      ? (list(await ask("aspects", `What changes, comma-separated (${CHANGE_ASPECTS.join(", ")})`, "locations")) ?? [
          "locations",
        ])
      : undefined;
  const unknownAspect = aspects?.find((a) => !(CHANGE_ASPECTS as readonly string[]).includes(a));
  if (unknownAspect) {
    console.error(`✖ unknown aspect "${unknownAspect}"; use ${CHANGE_ASPECTS.join(", ")}.`);
    process.exit(2);
  }
  const { announced, effective } = await dates();
  const changeId = (await ask("id", "Change id", `${effective}-${ids.join("-")}-${kind}`)) ?? TODO;
  const changeFile = join(contentDir, "changes", `${changeId}.mdx`);
  refuseOverwrite(changeFile);
  const text = await summary();

  for (const [i, id] of ids.entries()) {
    const path = files[i] as string;
    const parsed = SubProcessor.safeParse(frontmatter(readFileSync(path, "utf8")).data);
    const current = parsed.success ? stateOn(parsed.data, effective)?.state : undefined;
    if (kind === "removed") {
      appendStep(path, { from: effective, removed: true }, `${changeId}: ${id} is no longer used from this date.`);
    } else if (kind === "changed") {
      // The step starts as a copy of what changes (timeline fields are replaced whole): edit it to the new values.
      const fields = new Set<ChangeAspect>(aspects as ChangeAspect[]);
      const step: Record<string, unknown> = { from: effective };
      for (const aspect of fields) {
        const key = aspect === "transfer" ? "locations" : aspect;
        step[key] = current ? structuredClone(current[key]) : TODO;
      }
      const index = appendStep(path, step, `${changeId}: edit the values below to what applies from ${effective}.`);
      reminders.push(
        `${relative(root, path)}: timeline.${index} holds today's ${[...new Set(Object.keys(step).filter((k) => k !== "from"))].join(", ")}; change them to the new values`,
      );
    } else {
      const index = appendStep(
        path,
        { from: effective },
        `${changeId}: ${id} is added again from this date; give the fields that apply (name, entity, purpose, services, dataCategories, locations).`,
      );
      reminders.push(`${relative(root, path)}: timeline.${index} — give every field of the returning sub-processor`);
    }
  }
  write(
    changeFile,
    mdx("A change entry: the public change log and the notice subscribers receive.", {
      id: changeId,
      announced,
      effective,
      kind,
      ...(aspects ? { aspects } : {}),
      subprocessors: ids,
      summary: text,
    }),
  );
}

try {
  if (what === "subprocessor") await newSubprocessor();
  else await newChange();
} catch (error) {
  // Ctrl+C / Ctrl+D at a prompt: every question comes before the first write, so nothing was written.
  if ((error as { code?: string }).code === "ABORT_ERR") {
    console.error("\nCancelled; nothing was written.");
    process.exit(130);
  }
  throw error;
} finally {
  rl?.close();
}

const rel = (p: string) => relative(root, p);
for (const path of written) console.log(`✔ wrote ${rel(path)}`);
const { errors } = loadContent(root, today);
const ours = new Set(written.map(rel));
const left = errors.filter((e) => ours.has(e.file));
// Placeholders the schema cannot catch (e.g. a summary that says TODO), with their line numbers.
const todos = [...ours].flatMap((p) =>
  readFileSync(join(root, p), "utf8")
    .split("\n")
    .flatMap((line, i) =>
      line.includes(TODO) && !line.trimStart().startsWith("#") ? [`${p}:${i + 1}: ${line.trim()}`] : [],
    ),
);
if (left.length === 0 && todos.length === 0 && reminders.length === 0) {
  console.log(
    "\n✔ the new content is valid. Next: npm run preview-notice -- --base origin/main, then open a pull request.",
  );
} else {
  console.log("\nLeft to fill in:");
  for (const e of left) console.log(`  ${formatError(e)}`);
  for (const t of todos) console.log(`  ${t}`);
  for (const r of reminders) console.log(`  ${r}`);
  console.log("\nThen run npm run validate, and npm run preview-notice -- --base origin/main to see the notice.");
}
const elsewhere = errors.length - left.length;
if (elsewhere > 0)
  console.log(`\n(${elsewhere} other content error${elsewhere === 1 ? "" : "s"}: run npm run validate.)`);
