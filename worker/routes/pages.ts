/**
 * Pages the worker renders itself (listed in wrangler.toml's run_worker_first): the language
 * redirect at `/` and the subscription pages linked from emails under /{locale}/subscription/.
 */
import { type Context, Hono } from "hono";
import { z } from "zod";
import { LOCALES, type Locale } from "../../domain/schema/common.ts";
import { DEFAULT_LOCALE, isLocale } from "../env.ts";
import { ApiError } from "../http/errors.ts";
import type { AppEnv } from "../http/types.ts";
import { TokenField, validate } from "../http/validation.ts";
import {
  confirmedPage,
  confirmPage,
  erasedPage,
  erasePage,
  managePage,
  unsubscribePage,
} from "../pages/subscription.ts";
import { authenticate, confirmLinkState } from "../subscriptions/use-cases.ts";
import { listEndpoints } from "../webhooks/endpoints.ts";

/** Picks the first supported language from Accept-Language (by q-value), else the default. */
export function preferredLocale(header: string | undefined): Locale {
  if (!header) return DEFAULT_LOCALE;
  const ranked = header
    .split(",")
    .map((part, index) => {
      const [tag = "", ...params] = part.trim().split(";");
      const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
      return { lang: tag.trim().toLowerCase().split("-")[0] ?? "", q: q ? Number(q.slice(2)) : 1, index };
    })
    .filter((x) => x.q > 0 && !Number.isNaN(x.q))
    .sort((a, b) => b.q - a.q || a.index - b.index);
  return ranked.map((x) => x.lang).find(isLocale) ?? DEFAULT_LOCALE;
}

const TokenQuery = z.object({ token: TokenField }).strict();
const ManageQuery = z
  .object({
    token: TokenField,
    saved: z.literal("1").optional(),
    /** Set by the webhook forms' redirect (worker/routes/webhook-endpoints.ts). */
    webhook: z.enum(["tested", "removed"]).optional(),
  })
  .strict();

function pageLocale(c: Context<AppEnv>): Locale {
  const locale = c.req.param("locale");
  if (!isLocale(locale)) throw new ApiError("not_found", "This page does not exist.");
  c.set("htmlForm", { locale });
  return locale;
}

const pages = new Hono<AppEnv>();

pages.get("/", (c) => {
  const locale = preferredLocale(c.req.header("Accept-Language"));
  c.header("Vary", "Accept-Language");
  c.header("Cache-Control", "private, max-age=0");
  return c.redirect(`/${locale}/`, 302);
});

const base = `/:locale{${LOCALES.join("|")}}/subscription`;

// Errors on these pages (a bad or expired link) are rendered as pages in their language.
pages.use(`${base}/*`, async (c, next) => {
  pageLocale(c);
  await next();
});

/** Shows the confirm button; a used link shows the confirmed page, an expired one answers 410. */
pages.get(`${base}/confirm`, validate("query", TokenQuery), async (c) => {
  const locale = pageLocale(c);
  const { token } = c.req.valid("query");
  const state = await confirmLinkState(c.env, token, new Date());
  return state === "used" ? confirmedPage(locale) : confirmPage(locale, token);
});
pages.get(`${base}/confirmed`, (c) => confirmedPage(pageLocale(c)));
pages.get(`${base}/unsubscribe`, validate("query", TokenQuery), (c) =>
  unsubscribePage(pageLocale(c), c.req.valid("query").token),
);
pages.get(`${base}/erased`, (c) => erasedPage(pageLocale(c)));
/** "Erase my data" asks once more; a GET never erases (a mail scanner may follow any link). */
pages.get(`${base}/erase`, validate("query", TokenQuery), async (c) => {
  const locale = pageLocale(c);
  const { token } = c.req.valid("query");
  return erasePage(locale, token, await authenticate(c.env, token));
});
pages.get(`${base}/manage`, validate("query", ManageQuery), async (c) => {
  const locale = pageLocale(c);
  const { token, saved, webhook } = c.req.valid("query");
  const sub = await authenticate(c.env, token);
  const endpoints = await listEndpoints({ env: c.env, now: new Date(), defer: () => {} }, sub);
  return managePage(locale, token, sub, saved === "1", endpoints, webhook);
});

export default pages;
