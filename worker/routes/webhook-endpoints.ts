/**
 * /api/webhooks/endpoints (README "Webhooks"): a subscriber's outbound webhook endpoints, authenticated with the
 * manage token as `Authorization: Bearer <token>` like /api/subscriptions/me. The manage page's forms post the same
 * paths form-encoded with the token as a field (and `_method=DELETE` to remove); a new or rotated secret is shown on
 * the page that answers the form, never in a redirect's URL, and the other forms 303 back to the manage page.
 * (The inbound Resend webhook is worker/routes/webhooks.ts, mounted after this at /api/webhooks.)
 */
import { type Context, Hono } from "hono";
import { z } from "zod";
import type { Locale } from "../../domain/schema/common.ts";
import { DEFAULT_LOCALE } from "../env.ts";
import { ApiError } from "../http/errors.ts";
import { bearerToken } from "../http/security.ts";
import type { AppEnv } from "../http/types.ts";
import {
  acceptBody,
  CohortField,
  LocaleField,
  oneLineText,
  problemHook,
  Regions,
  TokenField,
} from "../http/validation.ts";
import { secretPage, webhookFormErrorPage } from "../pages/subscription.ts";
import { authenticate } from "../subscriptions/use-cases.ts";
import {
  listEndpoints,
  registerEndpoint,
  removeEndpoint,
  rotateSecret,
  testEndpoint,
  type WebhookDeps,
} from "../webhooks/endpoints.ts";

/** The URL is checked by the SSRF guard, which names the rule it breaks; here it only has to be a string. */
const UrlField = z.string({ error: "must be a string" });
const Description = oneLineText(200);

const RegisterBody = z
  .object({
    url: UrlField,
    /** Regions whose Annex C changes are sent; absent = the subscription's regions. */
    regions: Regions.optional(),
    /** A contract cohort, or null for every cohort. */
    cohort: CohortField.optional(),
    description: Description.optional(),
  })
  .strict();

/** The manage page's add form: the token as a field, an empty description is no description. */
const RegisterForm = z
  .object({
    token: TokenField,
    locale: LocaleField.optional(),
    url: UrlField,
    regions: Regions.optional(),
    cohort: CohortField.optional(),
    description: z.union([z.literal(""), Description]).optional(),
  })
  .strict()
  .transform(({ description, ...rest }) => ({ ...rest, description: description || undefined }));

const EmptyBody = z.object({}).strict();
const ActionForm = z.object({ token: TokenField, locale: LocaleField.optional() }).strict();
const RemoveForm = ActionForm.extend({ _method: z.literal("DELETE", { error: 'must be "DELETE"' }) }).strict();

function deps(c: Context<AppEnv>): WebhookDeps {
  return { env: c.env, now: new Date(), defer: (work) => c.executionCtx.waitUntil(work) };
}

/** Parses the body with the JSON schema, or with the form schema for the manage page's forms. */
async function parse<J extends z.ZodType, F extends z.ZodType>(
  c: Context<AppEnv>,
  json: J,
  form: F,
): Promise<{ form: false; body: z.output<J> } | { form: true; body: z.output<F> }> {
  const raw: unknown = await c.req.json();
  if (c.get("htmlForm")) {
    const result = form.safeParse(raw);
    problemHook(result);
    return { form: true, body: result.data as z.output<F> };
  }
  const result = json.safeParse(raw);
  problemHook(result);
  return { form: false, body: result.data as z.output<J> };
}

/** The language of the page a form was on (acceptBody reads it from the form's `locale` field). */
function formLocale(c: Context<AppEnv>): Locale {
  return c.get("htmlForm")?.locale ?? DEFAULT_LOCALE;
}

function owner(c: Context<AppEnv>) {
  return authenticate(c.env, bearerToken(c.req.header("Authorization")));
}

function managePath(locale: Locale, token: string, done: "tested" | "removed"): string {
  return `/${locale}/subscription/manage?token=${encodeURIComponent(token)}&webhook=${done}#webhooks`;
}

/**
 * A form whose action the rules refused (a URL the guard refused, the 10-endpoint cap, the rate limit, an id that is
 * not theirs) answers with a page that says why, in the page's language, and leads back to the manage page.
 */
async function inForm(c: Context<AppEnv>, token: string, action: () => Promise<Response>): Promise<Response> {
  try {
    return await action();
  } catch (error) {
    if (!(error instanceof ApiError) || error.code === "unauthorized" || error.code === "internal") throw error;
    return webhookFormErrorPage(formLocale(c), token, error);
  }
}

function methodNotAllowed(allow: string) {
  return () => {
    throw new ApiError("method_not_allowed", `Use ${allow} here.`, { headers: { Allow: allow } });
  };
}

const endpoints = new Hono<AppEnv>();

endpoints.post("/", acceptBody({ arrays: ["regions"] }), async (c) => {
  const parsed = await parse(c, RegisterBody, RegisterForm);
  if (parsed.form) {
    const { token, locale: _locale, ...registration } = parsed.body;
    const sub = await authenticate(c.env, token);
    return inForm(c, token, async () => {
      const { endpoint, secret } = await registerEndpoint(deps(c), sub, registration);
      return secretPage(formLocale(c), token, endpoint, secret, "created");
    });
  }
  const sub = await owner(c);
  const { endpoint, secret } = await registerEndpoint(deps(c), sub, parsed.body);
  c.header("Cache-Control", "no-store");
  c.header("Location", `/api/webhooks/endpoints/${endpoint.id}`);
  return c.json(
    {
      ...endpoint,
      secret,
      detail:
        "Store the secret now: it is shown only this once. A signed webhook.test event is on its way; the endpoint " +
        "becomes active when it answers 2xx within 10 seconds (POST …/test sends another).",
    },
    201,
  );
});

endpoints.get("/", async (c) => {
  const sub = await owner(c);
  c.header("Cache-Control", "no-store");
  return c.json({ endpoints: await listEndpoints(deps(c), sub) });
});
endpoints.all("/", methodNotAllowed("GET, POST"));

endpoints.delete("/:id", acceptBody({ allowEmpty: true, forms: false }), async (c) => {
  await parse(c, EmptyBody, EmptyBody);
  const sub = await owner(c);
  await removeEndpoint(deps(c), sub, c.req.param("id"));
  return c.json({ id: c.req.param("id"), status: "removed" });
});

/** The manage page's remove button (browsers can only POST): `_method=DELETE` with the token as a field. */
endpoints.post("/:id", acceptBody(), async (c) => {
  const parsed = await parse(c, RemoveForm, RemoveForm);
  const { token } = parsed.body;
  const sub = await authenticate(c.env, token);
  return inForm(c, token, async () => {
    await removeEndpoint(deps(c), sub, c.req.param("id"));
    if (!parsed.form) return c.json({ id: c.req.param("id"), status: "removed" });
    return c.redirect(managePath(formLocale(c), token, "removed"), 303);
  });
});
endpoints.all("/:id", methodNotAllowed("DELETE, POST"));

endpoints.post("/:id/rotate-secret", acceptBody({ allowEmpty: true }), async (c) => {
  const parsed = await parse(c, EmptyBody, ActionForm);
  if (parsed.form) {
    const { token } = parsed.body;
    const sub = await authenticate(c.env, token);
    return inForm(c, token, async () => {
      const { endpoint, secret } = await rotateSecret(deps(c), sub, c.req.param("id"));
      return secretPage(formLocale(c), token, endpoint, secret, "rotated");
    });
  }
  const { endpoint, secret } = await rotateSecret(deps(c), await owner(c), c.req.param("id"));
  c.header("Cache-Control", "no-store");
  return c.json({
    ...endpoint,
    secret,
    detail: `Store the new secret now: it is shown only this once. Until ${endpoint.previousSecretValidUntil} every call is signed with the old secret too.`,
  });
});
endpoints.all("/:id/rotate-secret", methodNotAllowed("POST"));

endpoints.post("/:id/test", acceptBody({ allowEmpty: true }), async (c) => {
  const parsed = await parse(c, EmptyBody, ActionForm);
  if (parsed.form) {
    const { token } = parsed.body;
    const sub = await authenticate(c.env, token);
    return inForm(c, token, async () => {
      await testEndpoint(deps(c), sub, c.req.param("id"));
      return c.redirect(managePath(formLocale(c), token, "tested"), 303);
    });
  }
  return c.json(await testEndpoint(deps(c), await owner(c), c.req.param("id")));
});
endpoints.all("/:id/test", methodNotAllowed("POST"));

export default endpoints;
