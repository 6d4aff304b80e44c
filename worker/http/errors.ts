import type { Context } from "hono";

/**
 * The closed list of error codes the API answers with, and the one place that maps a code to an
 * HTTP status. Every error leaves the worker as RFC 9457 problem+json ({type, title, status, detail}),
 * rendered by `problemResponse`; nothing else writes an error body.
 */
export const ERROR_STATUS = {
  /** The body could not be read at all (malformed JSON or form encoding). */
  malformed_body: 400,
  /** A link or token that is not (or no longer) known. */
  invalid_token: 400,
  /** Missing or wrong bearer token. */
  unauthorized: 401,
  /** Cross-site request (Origin check) or an action this caller may not take. */
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  /** The request is valid but clashes with the current state (e.g. an objection after its window). */
  conflict: 409,
  /** A confirmation link older than 48 hours. */
  token_expired: 410,
  payload_too_large: 413,
  unsupported_media_type: 415,
  /** Well-formed body whose fields break the rules (unknown field, bad address, unknown region…). */
  invalid_input: 422,
  rate_limited: 429,
  internal: 500,
  upstream_unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

const TITLES: Record<ErrorCode, string> = {
  malformed_body: "Malformed request body",
  invalid_token: "Invalid or unknown token",
  unauthorized: "Authentication required",
  forbidden: "Forbidden",
  not_found: "Not found",
  method_not_allowed: "Method not allowed",
  conflict: "Conflict",
  token_expired: "Link expired",
  payload_too_large: "Request body too large",
  unsupported_media_type: "Unsupported content type",
  invalid_input: "Invalid input",
  rate_limited: "Too many requests",
  internal: "Internal error",
  upstream_unavailable: "Service temporarily unavailable",
};

/** One field-level complaint inside an `invalid_input` problem. */
export interface FieldIssue {
  path: string;
  message: string;
  /** The named rule the field broke, where a check has named rules (the webhook URL guard, domain/webhook-url.ts). */
  rule?: string;
}

/** One complaint about a line of an uploaded file (a customer import): line, column, rule, detail. */
export interface RowIssue {
  line: number;
  column: string | null;
  rule: string;
  detail: string;
}

export interface ApiErrorOptions {
  issues?: FieldIssue[] | RowIssue[];
  headers?: Record<string, string>;
}

/** The one error type the worker throws on purpose. Anything else that escapes is an `internal` 500. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly issues: FieldIssue[] | RowIssue[] | undefined;
  readonly headers: Record<string, string>;
  constructor(code: ErrorCode, detail: string, options: ApiErrorOptions = {}) {
    super(detail);
    this.name = "ApiError";
    this.code = code;
    this.issues = options.issues;
    this.headers = options.headers ?? {};
  }
  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  errors?: FieldIssue[] | RowIssue[];
}

export function toProblem(error: ApiError): Problem {
  const problem: Problem = {
    type: `/api/problems/${error.code}`,
    title: TITLES[error.code],
    status: error.status,
    detail: error.message,
    code: error.code,
  };
  if (error.issues && error.issues.length > 0) problem.errors = error.issues;
  return problem;
}

/** Renders an ApiError as `application/problem+json`. */
export function problemResponse(error: ApiError): Response {
  const headers = new Headers(error.headers);
  headers.set("Content-Type", "application/problem+json; charset=utf-8");
  headers.set("Cache-Control", "no-store");
  return new Response(JSON.stringify(toProblem(error)), { status: error.status, headers });
}

/** Turns anything thrown into an ApiError without ever exposing a stack trace or internal message. */
export function asApiError(err: unknown, c?: Context): ApiError {
  if (err instanceof ApiError) return err;
  // Hono's own HTTPExceptions (e.g. from its body parsers) carry a status; keep 4xx as client errors.
  if (err && typeof err === "object" && "status" in err && typeof err.status === "number") {
    const status = err.status;
    if (status === 400) return new ApiError("malformed_body", "The request body could not be read.");
    if (status === 413) return new ApiError("payload_too_large", "The request body is too large.");
    if (status === 415) return new ApiError("unsupported_media_type", "This content type is not accepted.");
    if (status === 404) return new ApiError("not_found", "Nothing here.");
    if (status === 401) return new ApiError("unauthorized", "Authentication required.");
  }
  console.error("unhandled error", c ? `${c.req.method} ${new URL(c.req.url).pathname}` : "", err);
  return new ApiError("internal", "Something went wrong on our side. Please try again later.");
}
