/**
 * Input at the edge: reading bodies (size, content type, JSON or form encoding) and the one zod hook
 * every validator uses, so a failed parse always becomes a problem+json `invalid_input` with field
 * messages — never zod's raw result, never a 5xx.
 */
import { zValidator as honoZodValidator } from "@hono/zod-validator";
import type { Context, MiddlewareHandler, ValidationTargets } from "hono";
import { z } from "zod";
import { NOTICE_TOPICS } from "../../domain/notice.ts";
import { LOCALES } from "../../domain/schema/common.ts";
import { COHORT_IDS, DEFAULT_LOCALE, isLocale, MAX_BODY_BYTES, REGION_IDS } from "../env.ts";
import { ApiError, type FieldIssue } from "./errors.ts";
import type { AppEnv } from "./types.ts";

// ---------------------------------------------------------------------------------------------
// The shared hook

function issuePath(issue: z.core.$ZodIssue): string {
  if (issue.code === "unrecognized_keys") return issue.keys.join(", ");
  return issue.path.map(String).join(".") || "(body)";
}

export function toFieldIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.map((issue) => ({ path: issuePath(issue), message: issue.message }));
}

/** The one hook for every zod validator: failures throw `invalid_input` (422) with the field messages. */
export function problemHook(result: { success: boolean; error?: unknown }): void {
  if (result.success) return;
  const issues = result.error instanceof z.ZodError ? toFieldIssues(result.error) : [];
  const first = issues[0];
  const detail = first
    ? `${first.path}: ${first.message}${issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? "s" : ""})` : ""}`
    : "The request does not have the expected shape.";
  throw new ApiError("invalid_input", detail, { issues });
}

/** `@hono/zod-validator` with the shared problem+json hook already attached. */
export function validate<T extends z.ZodType, Target extends keyof ValidationTargets>(target: Target, schema: T) {
  return honoZodValidator(target, schema, problemHook);
}

// ---------------------------------------------------------------------------------------------
// Bodies

const FORM_TYPES = new Set(["application/x-www-form-urlencoded", "multipart/form-data"]);

function mediaType(header: string | undefined): string {
  return (header ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

/** Reads at most `limit` bytes; a longer body is refused with 413 before it is all in memory. */
export async function readLimited(request: Request, limit: number): Promise<Uint8Array> {
  const declared = request.headers.get("Content-Length");
  if (declared !== null && Number(declared) > limit) throw tooLarge(limit);
  if (!request.body) return new Uint8Array();
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

function tooLarge(limit: number): ApiError {
  return new ApiError("payload_too_large", `The request body is larger than ${limit / 1024} KB.`);
}

export interface AcceptBodyOptions {
  /** Form fields that are lists (checkbox groups): always turned into arrays. */
  arrays?: readonly string[];
  /** An empty body (no content type needed) counts as `{}`, e.g. DELETE. */
  allowEmpty?: boolean;
  /** Browser form posts get a 303 to this static page on error (`{locale}` is replaced). */
  errorRedirect?: string;
  /** Browser forms may be posted (form encoding); false = JSON only. */
  forms?: boolean;
}

/** True for a browser's HTML form post: form-encoded and asking for HTML back. */
export function isBrowserForm(c: Context): boolean {
  return (
    FORM_TYPES.has(mediaType(c.req.header("Content-Type"))) && (c.req.header("Accept") ?? "").includes("text/html")
  );
}

async function formFields(bytes: Uint8Array, contentType: string, arrays: readonly string[]) {
  const out: Record<string, string | string[]> = {};
  let entries: [string, string | File][];
  try {
    if (mediaType(contentType) === "multipart/form-data") {
      entries = [...(await new Response(bytes, { headers: { "Content-Type": contentType } }).formData()).entries()];
    } else {
      entries = [
        ...new URLSearchParams(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes)).entries(),
      ];
    }
  } catch {
    throw new ApiError("malformed_body", "The form data could not be read.");
  }
  for (const [rawKey, value] of entries) {
    if (typeof value !== "string") throw new ApiError("unsupported_media_type", "File uploads are not accepted.");
    const key = rawKey.endsWith("[]") ? rawKey.slice(0, -2) : rawKey;
    const existing = out[key];
    if (existing === undefined) out[key] = arrays.includes(key) ? [value] : value;
    else if (Array.isArray(existing)) existing.push(value);
    else out[key] = [existing, value];
  }
  return out;
}

/**
 * Reads the request body once, whatever its encoding: JSON, or (for the site's HTML forms)
 * form-encoded. Enforces the 16 KB limit (413) and the accepted content types (415), then hands the
 * parsed object on as a JSON request so `validate("json", schema)` checks both encodings with one
 * schema. A browser form post is remembered in `htmlForm` so answers can be pages and redirects.
 */
export function acceptBody(options: AcceptBodyOptions = {}): MiddlewareHandler<AppEnv> {
  const forms = options.forms ?? true;
  return async (c, next) => {
    const contentType = c.req.header("Content-Type");
    const type = mediaType(contentType);
    const bytes = await readLimited(c.req.raw, MAX_BODY_BYTES);
    let value: unknown;
    if (bytes.byteLength === 0 && options.allowEmpty) {
      value = {};
    } else if (type === "application/json" || /^application\/[\w.-]+\+json$/.test(type)) {
      try {
        value = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes));
      } catch {
        throw new ApiError("malformed_body", "The body is not valid JSON.");
      }
      if (value === null || typeof value !== "object" || Array.isArray(value)) {
        throw new ApiError("invalid_input", "The body must be a JSON object.");
      }
    } else if (forms && FORM_TYPES.has(type)) {
      const fields = await formFields(bytes, contentType ?? "", options.arrays ?? []);
      if (isBrowserForm(c)) {
        const locale = typeof fields.locale === "string" && isLocale(fields.locale) ? fields.locale : DEFAULT_LOCALE;
        c.set("htmlForm", {
          locale,
          ...(options.errorRedirect ? { errorRedirect: options.errorRedirect.replace("{locale}", locale) } : {}),
        });
      }
      value = fields;
    } else {
      const accepted = forms ? "application/json or application/x-www-form-urlencoded" : "application/json";
      throw new ApiError(
        "unsupported_media_type",
        type ? `Content-Type ${type} is not accepted; send ${accepted}.` : `Send the body as ${accepted}.`,
      );
    }
    const headers = new Headers(c.req.raw.headers);
    headers.set("Content-Type", "application/json");
    headers.delete("Content-Length");
    c.req.raw = new Request(c.req.raw.url, { method: c.req.raw.method, headers, body: JSON.stringify(value) });
    c.req.bodyCache = {};
    await next();
  };
}

// ---------------------------------------------------------------------------------------------
// Preferences

export const LocaleField = z.enum(LOCALES, { error: `must be one of: ${LOCALES.join(", ")}` });
export const TopicField = z.enum(NOTICE_TOPICS, { error: `must be one of: ${NOTICE_TOPICS.join(", ")}` });
export const RegionField = z
  .string({ error: "must be a string" })
  .refine((r) => REGION_IDS.includes(r), { error: `must be one of: ${REGION_IDS.join(", ")}` });

/** A list of choices: at least one, no more than there are options, duplicates collapsed. */
function choiceList<T extends z.ZodType<string>>(item: T, options: number, noun: string) {
  return z
    .array(item, { error: `must be a list of ${noun}` })
    .min(1, `choose at least one ${noun.replace(/s$/, "")}`)
    .max(options, `lists at most ${options} ${noun}`)
    .transform((list) => [...new Set(list)] as z.output<T>[]);
}

/**
 * The contract cohort a subscriber states: a cohort id of vendor.yaml, or null (JSON) / "" (a form's "I don't know")
 * for none, which keeps the notice with every cohort's rows.
 */
export const CohortField = z
  .union([z.string({ error: "must be a string or null" }), z.null()], { error: "must be a string or null" })
  .refine((c) => c === null || c === "" || COHORT_IDS.includes(c), {
    error: `must be one of: ${COHORT_IDS.join(", ")}, or null for "I don't know"`,
  })
  .transform((c) => (c === "" ? null : c));

export const Topics = choiceList(TopicField, NOTICE_TOPICS.length, "topics");
export const Regions = choiceList(RegionField, REGION_IDS.length, "regions");

// ---------------------------------------------------------------------------------------------
// Free text

// A line break inside a one-line field is how text escapes into an email header (a CR/LF in an objection's
// organisation would start a new header line in the vendor alert's Subject). One-line fields refuse every C0 control
// (TAB, CR and LF included), DEL, the C1 controls and the Unicode line and paragraph separators; multi-line fields
// allow TAB, CR and LF and refuse the rest. Checked before trimming, so a trailing CR/LF is refused too.
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const NOT_ONE_LINE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/u;
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const NOT_TEXT = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029]/u;

function freeText(max: number, forbidden: RegExp, message: string) {
  return z
    .string({ error: "must be a string" })
    .refine((v) => !forbidden.test(v), message)
    .trim()
    .min(1, "is missing")
    .max(max, "is too long");
}

/** A one-line field (a name, an organisation): trimmed, not empty, at most `max` characters, no control characters. */
export function oneLineText(max: number) {
  return freeText(max, NOT_ONE_LINE, "must be one line without control characters or line breaks");
}

/** A multi-line field (a reason): like `oneLineText`, but line breaks and tabs are allowed. */
export function multiLineText(max: number) {
  return freeText(max, NOT_TEXT, "must not contain control characters");
}

/** Tokens arrive in links, headers and form fields; anything much longer than ours is refused early. */
export const TokenField = z.string({ error: "must be a string" }).min(1, "is missing").max(128, "is too long");

/** A link that carries a token (and the page's language): unsubscribe, confirm. */
export const TokenQuery = z.object({ token: TokenField, locale: LocaleField.optional() }).strict();

/** RFC 8058 §3.1: the one-click POST body is exactly `List-Unsubscribe=One-Click`. */
export const OneClickBody = z
  .object({
    "List-Unsubscribe": z.literal("One-Click", { error: 'must be "One-Click" (RFC 8058)' }),
  })
  .strict();
