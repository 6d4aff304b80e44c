/**
 * /api/subscriptions: sign-up (double opt-in), confirm, one-click unsubscribe, and the subscriber's
 * own record at /me (read/export, change, erase). JSON in and out; the site's HTML forms post the
 * same endpoints form-encoded and get 303s to result pages in their language.
 */
import { type Context, Hono } from "hono";
import { z } from "zod";
import { EmailAddress } from "../../domain/email.ts";
import type { Locale } from "../../domain/schema/common.ts";
import { DEFAULT_LOCALE } from "../env.ts";
import { ApiError } from "../http/errors.ts";
import { bearerToken } from "../http/security.ts";
import type { AppEnv } from "../http/types.ts";
import {
  acceptBody,
  CohortField,
  LocaleField,
  OneClickBody,
  Regions,
  TokenField,
  TokenQuery,
  Topics,
  validate,
} from "../http/validation.ts";
import { unsubscribedPage } from "../pages/subscription.ts";
import {
  ACCEPTED_BODY,
  authenticate,
  checkIpLimit,
  confirm,
  type Deps,
  erase,
  exportData,
  type PreferencesPatch,
  signup,
  unsubscribeWithToken,
  updateSubscription,
  view,
} from "../subscriptions/use-cases.ts";

export const SubscribeBody = z
  .object({
    email: EmailAddress,
    locale: LocaleField.optional(),
    topics: Topics.optional(),
    regions: Regions.optional(),
    /** "Signed on or before 5 July 2023 / after / I don't know" (null or ""): which cohort's rows the notices carry. */
    cohort: CohortField.optional(),
    /** Honeypot: hidden from people on the HTML form; bots fill it in. Filled = accepted, nothing stored or sent. */
    website: z.string().max(500).optional(),
  })
  .strict();

const ConfirmBody = z.object({ token: TokenField, locale: LocaleField.optional() }).strict();

const PatchBody = z
  .object({
    locale: LocaleField.optional(),
    topics: Topics.optional(),
    regions: Regions.optional(),
    cohort: CohortField.optional(),
    subscribed: z.boolean({ error: "must be true or false" }).optional(),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, {
    error: "give at least one of locale, topics, regions, cohort, subscribed",
  });

const EmptyBody = z.object({}).strict();

/**
 * The manage page's forms: the token travels as a field and `_method` says which /me action is
 * meant (browsers can only GET and POST). Preference forms always send their checkbox groups, so an
 * unticked group arrives as "nothing chosen" and is refused like an empty list.
 */
const MeForm = z
  .object({
    token: TokenField,
    _method: z.enum(["GET", "PATCH", "DELETE"], { error: "must be GET, PATCH or DELETE" }),
    locale: LocaleField.optional(),
    topics: z.array(z.string()).optional(),
    regions: z.array(z.string()).optional(),
    cohort: CohortField.optional(),
    subscribed: z.enum(["true", "false"], { error: "must be true or false" }).optional(),
    /** Sent only by the erase confirmation page's button: erasing cannot be undone, so one click is not enough. */
    confirm: z.literal("erase", { error: 'must be "erase"' }).optional(),
  })
  .strict()
  .transform((form, ctx) => {
    if (form._method === "DELETE") {
      return {
        token: form.token,
        method: form._method,
        patch: {} as PreferencesPatch,
        erase: form.confirm === "erase",
      };
    }
    if (form._method !== "PATCH") return { token: form.token, method: form._method, patch: {} as PreferencesPatch };
    if (form.subscribed !== undefined) {
      return { token: form.token, method: form._method, patch: { subscribed: form.subscribed === "true" } };
    }
    const topics = Topics.safeParse(form.topics ?? []);
    const regions = Regions.safeParse(form.regions ?? []);
    for (const [path, r] of [
      ["topics", topics],
      ["regions", regions],
    ] as const) {
      if (!r.success)
        for (const issue of r.error.issues) ctx.addIssue({ code: "custom", path: [path], message: issue.message });
    }
    if (!topics.success || !regions.success) return z.NEVER;
    const patch: PreferencesPatch = { topics: topics.data, regions: regions.data };
    if (form.locale) patch.locale = form.locale;
    if (form.cohort !== undefined) patch.cohort = form.cohort;
    return { token: form.token, method: form._method, patch };
  });

function deps(c: Context<AppEnv>): Deps {
  return { env: c.env, now: new Date(), defer: (work) => c.executionCtx.waitUntil(work) };
}

function clientIp(c: Context): string {
  return c.req.header("CF-Connecting-IP") ?? "unknown";
}

function methodNotAllowed(allow: string) {
  return () => {
    throw new ApiError("method_not_allowed", `Use ${allow} here.`, { headers: { Allow: allow } });
  };
}

function localeFor(c: Context<AppEnv>, fallback?: Locale): Locale {
  return c.get("htmlForm")?.locale ?? fallback ?? DEFAULT_LOCALE;
}

const subscriptions = new Hono<AppEnv>();

subscriptions.post(
  "/",
  acceptBody({ arrays: ["topics", "regions"], errorRedirect: "/{locale}/subscribe/error/" }),
  validate("json", SubscribeBody),
  async (c) => {
    const body = c.req.valid("json");
    const d = deps(c);
    await checkIpLimit(d, clientIp(c));
    if (!body.website) await signup(d, body);
    const form = c.get("htmlForm");
    if (form) return c.redirect(`/${body.locale ?? form.locale}/subscribe/check/`, 303);
    c.header("Cache-Control", "no-store");
    return c.json(ACCEPTED_BODY, 202);
  },
);
subscriptions.all("/", methodNotAllowed("POST"));

subscriptions.post("/confirm", acceptBody(), validate("json", ConfirmBody), async (c) => {
  const { token, locale } = c.req.valid("json");
  const result = await confirm(deps(c), token);
  if (c.get("htmlForm")) return c.redirect(`/${locale ?? localeFor(c, result.locale)}/subscription/confirmed`, 303);
  return c.json({ status: result.status, alreadyConfirmed: result.alreadyConfirmed }, 200);
});
subscriptions.all("/confirm", methodNotAllowed("POST"));

/** A mail client without one-click support opens the List-Unsubscribe URL: show the page with the button. */
subscriptions.get("/unsubscribe", validate("query", TokenQuery), (c) => {
  const { token, locale } = c.req.valid("query");
  return c.redirect(`/${locale ?? DEFAULT_LOCALE}/subscription/unsubscribe?token=${encodeURIComponent(token)}`, 303);
});

/** RFC 8058 one-click: 200 without a redirect, for mail clients and for the page's button alike. */
subscriptions.post(
  "/unsubscribe",
  validate("query", TokenQuery),
  acceptBody(),
  validate("json", OneClickBody),
  async (c) => {
    const { token, locale } = c.req.valid("query");
    await unsubscribeWithToken(deps(c), token);
    if (c.get("htmlForm")) return unsubscribedPage(locale ?? localeFor(c));
    return c.json({ status: "unsubscribed" }, 200);
  },
);
subscriptions.all("/unsubscribe", methodNotAllowed("GET, POST"));

subscriptions.get("/me", async (c) => {
  const sub = await authenticate(c.env, bearerToken(c.req.header("Authorization")));
  c.header("Cache-Control", "no-store");
  return c.json(await exportData(deps(c), sub));
});

subscriptions.patch("/me", acceptBody({ forms: false }), validate("json", PatchBody), async (c) => {
  const sub = await authenticate(c.env, bearerToken(c.req.header("Authorization")));
  const updated = await updateSubscription(deps(c), sub, c.req.valid("json"));
  return c.json({ subscription: view(updated) });
});

subscriptions.delete("/me", acceptBody({ allowEmpty: true, forms: false }), validate("json", EmptyBody), async (c) => {
  const sub = await authenticate(c.env, bearerToken(c.req.header("Authorization")));
  await erase(deps(c), sub);
  return c.json({ status: "erased" });
});

/** The manage page's HTML forms (token as a field, `_method` for the action). */
subscriptions.post("/me", acceptBody({ arrays: ["topics", "regions"] }), validate("json", MeForm), async (c) => {
  const form = c.req.valid("json");
  const { token, method, patch } = form;
  const d = deps(c);
  const sub = await authenticate(c.env, token);
  const pageLocale = localeFor(c, sub.locale);
  if (method === "GET") {
    c.header("Content-Disposition", 'attachment; filename="subscription-data.json"');
    c.header("Cache-Control", "no-store");
    return c.json(await exportData(d, sub));
  }
  if (method === "DELETE") {
    // Without the confirmation page's field (an old manage page, a form posted by hand) nothing is erased: a browser
    // is shown that page, anything else is told what is missing.
    if (!("erase" in form && form.erase)) {
      if (c.get("htmlForm"))
        return c.redirect(`/${pageLocale}/subscription/erase?token=${encodeURIComponent(token)}`, 303);
      throw new ApiError("invalid_input", 'Erasing through this form needs confirm: "erase".', {
        issues: [{ path: "confirm", message: 'must be "erase"' }],
      });
    }
    await erase(d, sub);
    return c.get("htmlForm") ? c.redirect(`/${pageLocale}/subscription/erased`, 303) : c.json({ status: "erased" });
  }
  const updated = await updateSubscription(d, sub, patch);
  if (!c.get("htmlForm")) return c.json({ subscription: view(updated) });
  return c.redirect(`/${updated.locale}/subscription/manage?token=${encodeURIComponent(token)}&saved=1`, 303);
});
subscriptions.all("/me", methodNotAllowed("GET, PATCH, DELETE, POST"));

export default subscriptions;
