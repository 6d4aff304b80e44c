/**
 * Customers under contract (README "Customers and evidence"). Staff, with the admin token, at /api/admin/customers:
 * upsert, list, read with history, end a contract, import a file. A customer's contact, with its token, at
 * /api/customers/contacts (one-click unsubscribe, name a different contact) and the contact page
 * /{locale}/customer/contact. Thin: worker/customers/ decides and writes.
 */
import { type Context, Hono } from "hono";
import { z } from "zod";
import { importFormat } from "../../domain/customer-import.ts";
import { EmailAddress } from "../../domain/email.ts";
import { LOCALES } from "../../domain/schema/common.ts";
import { authenticateContact, replaceContact, unsubscribeContact } from "../customers/contacts.ts";
import {
  customerDetail,
  type Deps,
  endContract,
  importCustomers,
  listCustomers,
  upsertCustomer,
} from "../customers/use-cases.ts";
import { DEFAULT_LOCALE, isLocale, vendor } from "../env.ts";
import { ApiError } from "../http/errors.ts";
import type { AppEnv } from "../http/types.ts";
import {
  acceptBody,
  LocaleField,
  OneClickBody,
  oneLineText,
  RegionField,
  readLimited,
  TokenField,
  validate,
} from "../http/validation.ts";
import { contactDonePage, contactPage } from "../pages/customer-contact.ts";
import { requireAdmin } from "./admin.ts";

/**
 * An import body may be far larger than the 16 KB of other requests: 10,000 customers with two contacts each are about
 * 2 MB of CSV. 8 MB keeps the parsed import well inside a Worker's 128 MB of memory (README "Benchmarks").
 */
export const MAX_IMPORT_BYTES = 8 * 1024 * 1024;

function deps(c: Context<AppEnv>): Deps {
  return { env: c.env, now: new Date(), defer: (work) => c.executionCtx.waitUntil(work) };
}

const CohortField = z.enum(vendor.cohorts.map((k) => k.id) as [string, ...string[]], {
  error: `must be one of: ${vendor.cohorts.map((k) => k.id).join(", ")}`,
});
const ListQuery = z
  .object({ region: RegionField.optional(), cohort: CohortField.optional(), ended: z.enum(["0", "1"]).optional() })
  .strict();
const ImportQuery = z
  .object({ dryRun: z.enum(["0", "1", "true", "false"]).optional(), mode: z.enum(["merge", "full-sync"]).optional() })
  .strict();

export const adminCustomers = new Hono<AppEnv>();
adminCustomers.use("*", requireAdmin);
adminCustomers.use("*", async (c, next) => {
  await next();
  c.header("Cache-Control", "no-store");
});

adminCustomers.get("/", validate("query", ListQuery), async (c) => {
  const { region, cohort, ended } = c.req.valid("query");
  return c.json({ customers: await listCustomers(deps(c), { region, cohort, includeEnded: ended === "1" }) });
});

// Before "/:externalId": an import is POST, which no customer URL answers.
adminCustomers.post("/import", validate("query", ImportQuery), async (c) => {
  const { dryRun, mode } = c.req.valid("query");
  const type = c.req.header("Content-Type") ?? "";
  const format = importFormat(type);
  if (!format) {
    throw new ApiError(
      "unsupported_media_type",
      "Send the import as text/csv or as JSON lines (application/x-ndjson or application/jsonl).",
    );
  }
  const body = await readLimited(c.req.raw, MAX_IMPORT_BYTES);
  const options = { mode: mode ?? "merge", dryRun: dryRun === "1" || dryRun === "true" } as const;
  return c.json(await importCustomers(deps(c), body, format, options));
});

adminCustomers.put("/:externalId", acceptBody({ forms: false }), async (c) => {
  const result = await upsertCustomer(deps(c), c.req.param("externalId"), await c.req.json());
  return c.json(result, result.status === "created" ? 201 : 200);
});
adminCustomers.get("/:externalId", async (c) => c.json(await customerDetail(deps(c), c.req.param("externalId"))));
adminCustomers.delete("/:externalId", async (c) => c.json(await endContract(deps(c), c.req.param("externalId"))));

const TokenQuery = z.object({ token: TokenField, locale: LocaleField.optional() }).strict();
const ReplaceBody = z
  .object({
    token: TokenField,
    email: EmailAddress,
    name: z.union([z.literal(""), oneLineText(200)]).optional(),
    locale: LocaleField.optional(),
  })
  .strict();

export const contactApi = new Hono<AppEnv>();

/** RFC 8058 one-click: 200 without a redirect, for mail clients and for the contact page's button alike. */
contactApi.post(
  "/unsubscribe",
  validate("query", TokenQuery),
  acceptBody(),
  validate("json", OneClickBody),
  async (c) => {
    const { token, locale } = c.req.valid("query");
    await unsubscribeContact(deps(c), token);
    if (c.get("htmlForm")) return contactDonePage(locale ?? DEFAULT_LOCALE, "unsubscribed");
    return c.json({ status: "unsubscribed" }, 200);
  },
);
contactApi.get("/unsubscribe", validate("query", TokenQuery), (c) => {
  const { token, locale } = c.req.valid("query");
  return c.redirect(`/${locale ?? DEFAULT_LOCALE}/customer/contact?token=${encodeURIComponent(token)}`, 303);
});

contactApi.post("/replace", acceptBody(), validate("json", ReplaceBody), async (c) => {
  const { token, email, name, locale } = c.req.valid("json");
  const result = await replaceContact(deps(c), token, { email, name: name || undefined });
  if (c.get("htmlForm")) return contactDonePage(locale ?? DEFAULT_LOCALE, { replacedBy: result.email });
  return c.json({ status: "replaced", contact: result.email }, 200);
});

export const contactPages = new Hono<AppEnv>();
contactPages.get(
  `/:locale{${LOCALES.join("|")}}/customer/contact`,
  validate("query", z.object({ token: TokenField }).strict()),
  async (c) => {
    const locale = c.req.param("locale");
    if (!isLocale(locale)) throw new ApiError("not_found", "This page does not exist.");
    c.set("htmlForm", { locale });
    const { token } = c.req.valid("query");
    const found = await authenticateContact(c.env, token);
    if (!found) throw new ApiError("invalid_token", "This link is not valid (any more).");
    return contactPage(locale, token, found);
  },
);
