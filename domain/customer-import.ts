import { parse as parseCsv } from "csv-parse/sync";
import type { z } from "zod";
import { canonicalJson } from "./canonical.ts";
import {
  CUSTOMER_RULES,
  type Customer,
  type CustomerVendor,
  customerIssueRule,
  customerSchema,
} from "./schema/customer.ts";

// Customer import (DPA 5.2: notice goes to each customer, so the vendor must be able to load all of them). An import
// is all or nothing: it yields either every customer of the file or every error found in it, never a part, so a
// spreadsheet with one bad row writes nothing and staff fix everything in one pass.

/** Rules only an import can break, on top of the rules of one customer (CUSTOMER_RULES). */
export const IMPORT_RULES = {
  ...CUSTOMER_RULES,
  encoding: "The file must be UTF-8 (with or without a byte order mark)",
  "csv-syntax": "The CSV must be well formed: a quote that opens a field closes it",
  "json-syntax": "Every non-empty line of JSON lines is one JSON object",
  "missing-column": "The header row names every required column",
  "unknown-column": "The header row names only documented columns",
  "duplicate-column": "The header row names each column once",
  "column-count": "A row has no more cells than the header row",
  "duplicate-external-id": "An external id names one customer: its rows agree, and JSON lines list it once",
  "empty-import": "An import holds at least one customer",
} as const;
export type ImportRule = keyof typeof IMPORT_RULES;

/** One problem in an import: the 1-based line of the file, the column (CSV) or field path (JSON lines). */
export interface ImportError {
  line: number;
  /** CSV column name or JSON field path (e.g. `contacts.0.email`); null when the whole line or file is at fault. */
  column: string | null;
  rule: ImportRule;
  detail: string;
}

export type ImportResult = { ok: true; customers: Customer[] } | { ok: false; errors: ImportError[] };

export type ImportFormat = "csv" | "jsonl";

/** The import format of a request's media type: `text/csv`, or JSON lines under any of its registered names. */
export function importFormat(mediaType: string): ImportFormat | undefined {
  const type = mediaType.split(";")[0]?.trim().toLowerCase() ?? "";
  if (type === "text/csv") return "csv";
  if (["application/jsonl", "application/x-jsonlines", "application/x-ndjson", "application/jsonlines"].includes(type))
    return "jsonl";
  return undefined;
}

/**
 * The CSV columns of an import, in the order an export would write them. One row per notice contact: a customer
 * with two contacts has two rows with the same `externalId`, in any order. On its further rows the customer's own
 * cells (name … locale) may be left empty or repeat the first row; a different value is an error
 * (`duplicate-external-id`: two customers under one id). `cohort`, `contactName` and `contactLocale` may be empty:
 * the cohort then follows from the contract date, the contact's locale from the customer's.
 *
 * ```csv
 * externalId;name;region;contractDate;cohort;locale;contactEmail;contactName;contactLocale
 * C-1001;Nordlys A/S;uk;2023-03-14;;en;dpo@nordlys.example;Data Protection Officer;
 * C-1001;;;;;;legal@nordlys.example;;da
 * ```
 *
 * The delimiter is `;` (what Danish spreadsheet programs write) or `,`, whichever the header row uses; quoted fields
 * and CRLF line ends are read as RFC 4180 has them. Column names are matched without regard to case.
 */
export const CSV_IMPORT_COLUMNS = [
  "externalId",
  "name",
  "region",
  "contractDate",
  "cohort",
  "locale",
  "contactEmail",
  "contactName",
  "contactLocale",
] as const;
type CsvColumn = (typeof CSV_IMPORT_COLUMNS)[number];
const OPTIONAL_COLUMNS: readonly CsvColumn[] = ["cohort", "contactName", "contactLocale"];
const CUSTOMER_COLUMNS = ["name", "region", "contractDate", "cohort", "locale"] as const;
const CONTACT_COLUMN: Record<string, CsvColumn> = {
  email: "contactEmail",
  name: "contactName",
  locale: "contactLocale",
};

/** Reads an import body: bytes must be UTF-8 (a byte order mark is dropped), a string is taken as it is. */
export function parseCustomerImport(
  input: string | Uint8Array,
  format: ImportFormat,
  vendor: CustomerVendor,
): ImportResult {
  let text: string;
  if (typeof input === "string") text = input.replace(/^\uFEFF/, "");
  else {
    try {
      text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(input);
    } catch {
      const lossy = new TextDecoder("utf-8").decode(input);
      const line = lossy.slice(0, lossy.indexOf("\uFFFD")).split(/\r\n|\r|\n/).length;
      return fail([{ line, column: null, rule: "encoding", detail: "is not UTF-8 text; save the file as UTF-8" }]);
    }
  }
  return format === "csv" ? parseCustomerCsv(text, vendor) : parseCustomerJsonLines(text, vendor);
}

// Errors are listed by line, then in the order of the columns (JSON lines: of the fields), then by name.
const COLUMN_ORDER = [...CSV_IMPORT_COLUMNS.slice(0, 6), "contacts", ...CSV_IMPORT_COLUMNS.slice(6)];

function fail(errors: ImportError[]): ImportResult {
  const order = (c: string | null) => {
    const i = c === null ? -1 : COLUMN_ORDER.indexOf(c.split(".")[0] ?? "");
    return c !== null && i < 0 ? COLUMN_ORDER.length : i;
  };
  errors.sort(
    (a, b) => a.line - b.line || order(a.column) - order(b.column) || (a.column ?? "").localeCompare(b.column ?? ""),
  );
  return { ok: false, errors };
}

/** `";"` when the header row has more semicolons than commas outside quotes, else `","`. */
function detectDelimiter(headerLine: string): ";" | "," {
  let semicolons = 0;
  let commas = 0;
  let quoted = false;
  for (const ch of headerLine) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === ";") semicolons++;
    else if (!quoted && ch === ",") commas++;
  }
  return semicolons > commas ? ";" : ",";
}

interface Row {
  line: number;
  cells: Partial<Record<CsvColumn, string>>;
}

/** CSV (see CSV_IMPORT_COLUMNS) into customers, or every error found. */
export function parseCustomerCsv(text: string, vendor: CustomerVendor): ImportResult {
  // One line-end convention, so that csv-parse's line count is the line number an editor shows.
  const normalised = text.replace(/^\uFEFF/, "").replace(/\r\n?/g, "\n");
  const headerEnd = normalised.indexOf("\n");
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parseCsv(normalised, {
      delimiter: detectDelimiter(headerEnd < 0 ? normalised : normalised.slice(0, headerEnd)),
      info: true,
      relax_column_count: true,
      skip_empty_lines: false,
    }) as unknown as typeof records; // `info: true` makes each record {record, info}; the typings do not follow
  } catch (error) {
    const line = Number((error as { lines?: unknown }).lines) || 1;
    return fail([{ line, column: null, rule: "csv-syntax", detail: (error as Error).message }]);
  }
  const errors: ImportError[] = [];
  const [header, ...body] = records;
  const byName = new Map(CSV_IMPORT_COLUMNS.map((c) => [c.toLowerCase(), c]));
  const positions: (CsvColumn | undefined)[] = [];
  const seen = new Set<CsvColumn>();
  for (const raw of header?.record ?? []) {
    const name = raw.trim();
    const column = byName.get(name.toLowerCase());
    if (!column) {
      if (name !== "")
        errors.push({
          line: 1,
          column: name,
          rule: "unknown-column",
          detail: `unknown column "${name}"; the columns are ${CSV_IMPORT_COLUMNS.join(", ")}`,
        });
    } else if (seen.has(column)) {
      errors.push({ line: 1, column, rule: "duplicate-column", detail: `column ${column} appears twice` });
    } else seen.add(column);
    positions.push(column && !positions.includes(column) ? column : undefined);
  }
  const missing = CSV_IMPORT_COLUMNS.filter((c) => !seen.has(c) && !OPTIONAL_COLUMNS.includes(c));
  for (const column of missing) {
    errors.push({ line: 1, column, rule: "missing-column", detail: `the header row has no ${column} column` });
  }

  // Group the rows by externalId; a record's first line follows the previous record's last line.
  const groups = new Map<string, Row[]>();
  let previousEnd = header?.info.lines ?? 0;
  for (const { record, info } of body) {
    const line = previousEnd + 1;
    previousEnd = info.lines;
    if (record.every((cell) => cell.trim() === "")) continue;
    if (record.length > positions.length && record.slice(positions.length).some((c) => c.trim() !== "")) {
      errors.push({
        line,
        column: null,
        rule: "column-count",
        detail: `the row has ${record.length} cells, the header row ${positions.length}`,
      });
    }
    const cells: Row["cells"] = {};
    record.forEach((cell, i) => {
      const column = positions[i];
      const value = cell.trim();
      if (column && value !== "") cells[column] = value;
    });
    const id = cells.externalId;
    if (id === undefined) {
      if (!missing.includes("externalId"))
        errors.push({
          line,
          column: "externalId",
          rule: "required",
          detail: "every row names its customer's externalId",
        });
      continue;
    }
    const rows = groups.get(id) ?? [];
    rows.push({ line, cells });
    groups.set(id, rows);
  }

  const schema = customerSchema(vendor);
  const customers: Customer[] = [];
  for (const [externalId, rows] of groups) {
    const [first] = rows as [Row, ...Row[]];
    const from: Partial<Record<CsvColumn, number>> = {};
    const fields: Partial<Record<CsvColumn, string>> = {};
    for (const row of rows) {
      for (const column of CUSTOMER_COLUMNS) {
        const value = row.cells[column];
        if (value === undefined) continue;
        const known = fields[column];
        if (known === undefined) {
          fields[column] = value;
          from[column] = row.line;
        } else if (known !== value) {
          errors.push({
            line: row.line,
            column,
            rule: "duplicate-external-id",
            detail: `${column} "${value}" differs from "${known}" on line ${from[column]} for externalId ${externalId}: the rows of one customer must agree`,
          });
        }
      }
    }
    const candidate = {
      externalId,
      ...fields,
      contacts: rows.map((r) => ({
        email: r.cells.contactEmail,
        ...(r.cells.contactName !== undefined ? { name: r.cells.contactName } : {}),
        ...(r.cells.contactLocale !== undefined ? { locale: r.cells.contactLocale } : {}),
      })),
    };
    const parsed = schema.safeParse(candidate);
    if (parsed.success) {
      customers.push(parsed.data);
      continue;
    }
    for (const issue of parsed.error.issues) {
      const [head, index, field] = issue.path;
      let line = first.line;
      let column: string = String(head ?? "externalId");
      if (head === "contacts") {
        const row = typeof index === "number" ? rows[index] : undefined;
        line = row?.line ?? first.line;
        column = CONTACT_COLUMN[String(field ?? "email")] ?? "contactEmail";
      } else line = from[column as CsvColumn] ?? first.line;
      // A column missing from the header is reported once, on line 1, not again on every row.
      if (missing.includes(column as CsvColumn)) continue;
      errors.push({ line, column, rule: customerIssueRule(issue), detail: issueDetail(issue, candidate) });
    }
  }
  if (errors.length > 0) return fail(errors);
  if (customers.length === 0)
    return fail([{ line: 1, column: null, rule: "empty-import", detail: "the file holds no customers" }]);
  return { ok: true, customers };
}

/** JSON lines: one customer object per line, `contacts` an array; blank lines are skipped. */
export function parseCustomerJsonLines(text: string, vendor: CustomerVendor): ImportResult {
  const schema = customerSchema(vendor);
  const errors: ImportError[] = [];
  const customers: Customer[] = [];
  const firstLine = new Map<string, number>();
  text
    .replace(/^\uFEFF/, "")
    .split(/\r\n|\r|\n/)
    .forEach((source, i) => {
      const line = i + 1;
      if (source.trim() === "") return;
      let value: unknown;
      try {
        value = JSON.parse(source);
      } catch (error) {
        errors.push({ line, column: null, rule: "json-syntax", detail: `not JSON: ${(error as Error).message}` });
        return;
      }
      if (value === null || typeof value !== "object" || Array.isArray(value)) {
        errors.push({ line, column: null, rule: "json-syntax", detail: "each line must be one JSON object" });
        return;
      }
      const id = (value as { externalId?: unknown }).externalId;
      if (typeof id === "string") {
        const earlier = firstLine.get(id);
        if (earlier !== undefined) {
          errors.push({
            line,
            column: "externalId",
            rule: "duplicate-external-id",
            detail: `externalId ${id} is already used on line ${earlier}`,
          });
        } else firstLine.set(id, line);
      }
      const parsed = schema.safeParse(value);
      if (parsed.success) {
        customers.push(parsed.data);
        return;
      }
      for (const issue of parsed.error.issues) {
        const base = issue.path.map(String);
        if (issue.code === "unrecognized_keys") {
          for (const key of issue.keys) {
            errors.push({
              line,
              column: [...base, key].join("."),
              rule: "unknown-field",
              detail: `unknown field "${key}"`,
            });
          }
        } else {
          errors.push({
            line,
            column: base.join(".") || null,
            rule: customerIssueRule(issue),
            detail: issueDetail(issue, value),
          });
        }
      }
    });
  if (errors.length > 0) return fail(errors);
  if (customers.length === 0)
    return fail([{ line: 1, column: null, rule: "empty-import", detail: "the file holds no customers" }]);
  return { ok: true, customers };
}

/** The message of an issue, led by the offending value when it is short text, e.g. `"fr" is not a region …`. */
function issueDetail(issue: z.core.$ZodIssue, root: unknown): string {
  let value: unknown = root;
  for (const key of issue.path) value = (value as Record<PropertyKey, unknown> | undefined)?.[key as PropertyKey];
  if (issue.code === "invalid_type" && value === undefined) return "is missing";
  return typeof value === "string" && value.length <= 80 ? `${JSON.stringify(value)} ${issue.message}` : issue.message;
}

// ---------------------------------------------------------------------------------------------------------------------
// Dry run

/**
 * - `merge`: the file creates and updates; customers it does not mention stay as they are (the safe default for a
 *   partial list, e.g. this month's new contracts).
 * - `full-sync`: the file is the whole customer list; a customer it does not mention is `removed` (its contract ends,
 *   its evidence stays).
 */
export type ImportMode = "merge" | "full-sync";

export interface CustomerUpdate {
  before: Customer;
  after: Customer;
  /** The top-level fields whose canonical form differs. */
  fields: (keyof Customer)[];
}

/** What an import would do, for `?dryRun=1` and for the write that follows it. Every list is in externalId order. */
export interface ImportPlan {
  mode: ImportMode;
  created: Customer[];
  updated: CustomerUpdate[];
  unchanged: string[];
  removed: Customer[];
}

/**
 * A customer as compared: contacts are a set (ordered by address) and absent optional fields are left out, so an
 * upsert or import of the same customer twice changes nothing, whatever the order of its contact rows.
 */
export function canonicalCustomer(c: Customer): Customer {
  const contacts = [...c.contacts]
    .map((k) => ({ email: k.email, ...(k.name ? { name: k.name } : {}), ...(k.locale ? { locale: k.locale } : {}) }))
    .sort((a, b) => (a.email < b.email ? -1 : a.email > b.email ? 1 : 0));
  return {
    externalId: c.externalId,
    name: c.name,
    region: c.region,
    contractDate: c.contractDate,
    ...(c.cohort ? { cohort: c.cohort } : {}),
    locale: c.locale,
    contacts,
  };
}

/** True when two records of a customer say the same thing (see canonicalCustomer). */
export function sameCustomer(a: Customer, b: Customer): boolean {
  return canonicalJson(canonicalCustomer(a)) === canonicalJson(canonicalCustomer(b));
}

const byId = (a: Customer, b: Customer) => (a.externalId < b.externalId ? -1 : a.externalId > b.externalId ? 1 : 0);

/**
 * What importing `incoming` over `existing` (the customers whose contract has not ended) would do. Pure and
 * idempotent: planning the import of a file just imported gives only `unchanged`.
 */
export function planImport(
  existing: readonly Customer[],
  incoming: readonly Customer[],
  options: { mode: ImportMode },
): ImportPlan {
  const current = new Map(existing.map((c) => [c.externalId, c]));
  const plan: ImportPlan = { mode: options.mode, created: [], updated: [], unchanged: [], removed: [] };
  for (const after of [...incoming].sort(byId)) {
    const before = current.get(after.externalId);
    if (!before) {
      plan.created.push(after);
      continue;
    }
    const a = canonicalCustomer(before);
    const b = canonicalCustomer(after);
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])] as (keyof Customer)[];
    const fields = keys.filter((k) => canonicalJson(a[k] ?? null) !== canonicalJson(b[k] ?? null));
    if (fields.length === 0) plan.unchanged.push(after.externalId);
    else plan.updated.push({ before, after, fields });
  }
  if (options.mode === "full-sync") {
    const mentioned = new Set(incoming.map((c) => c.externalId));
    plan.removed = existing.filter((c) => !mentioned.has(c.externalId)).sort(byId);
  }
  return plan;
}
