import { type Context, Hono } from "hono";
import { z } from "zod";
import { isWithinObjectionWindow } from "../../domain/calendar.ts";
import { icsCalendar } from "../../domain/icalendar.ts";
import { formatDate } from "../../domain/labels.ts";
import { LOCALES, type Locale } from "../../domain/schema/common.ts";
import { t } from "../../i18n/index.ts";
import { authenticateContact } from "../customers/contacts.ts";
import { announcedChanges } from "../db/objections.ts";
import { DEFAULT_LOCALE, isLocale, publicUrl, vendor } from "../env.ts";
import { ApiError } from "../http/errors.ts";
import { bearerToken } from "../http/security.ts";
import type { AppEnv } from "../http/types.ts";
import { acceptBody, multiLineText, oneLineText, TokenField, validate } from "../http/validation.ts";
import {
  customerObjectionWindow,
  noticeExists,
  objectionWindow,
  objector,
  recordCustomerObjection,
  recordObjection,
} from "../notices/objections.ts";
import { objectedPage, objectionPage } from "../pages/objection.ts";
import { authenticate } from "../subscriptions/use-cases.ts";

// Objections to a notice (DPA 5.3: the customer may object within 10 working days from receiving the notice); the
// use case and its window are notices/objections.ts.
// POST /api/notices/{id}/objections (JSON with a Bearer manage token, or the form below with the token as a field)
// and the worker-rendered form the notice's "object" button opens: /{locale}/subscription/object/{id}?token=…
// GET /api/notices/{id}/deadline.ics?token=… is the recipient's own deadline as a calendar file, linked from the
// notice (Resend batch emails carry no attachments): a subscriber's manage token or a customer contact's notice token.

const ObjectionBody = z
  .object({
    /** A subscriber names its organisation; a customer's is known from its contact's token. */
    organisation: oneLineText(200).optional(),
    reason: multiLineText(5000),
    /** Ids of the changes objected to (checkboxes on the form); required for a customer. */
    changes: z.array(oneLineText(200)).max(100, "names at most 100 changes").optional(),
    token: TokenField.optional(),
    locale: z.enum(LOCALES).optional(),
  })
  .strict();

function noticeId(c: Context<AppEnv>): number {
  const id = Number(c.req.param("id"));
  if (!Number.isInteger(id) || id < 1) throw new ApiError("not_found", "There is no such notice.");
  return id;
}

export const notices = new Hono<AppEnv>();

notices.post(
  "/:id/objections",
  acceptBody({ errorRedirect: undefined, arrays: ["changes"] }),
  validate("json", ObjectionBody),
  async (c) => {
    const id = noticeId(c);
    const body = c.req.valid("json");
    const token = bearerToken(c.req.header("Authorization")) ?? body.token;
    const who = await objector(c.env, token);
    const defer = (work: Promise<unknown>) => c.executionCtx.waitUntil(work);

    if (who.kind === "customer") {
      const locale: Locale = body.locale ?? who.contact.locale ?? who.customer.locale;
      const { objection, changes } = await recordCustomerObjection(
        c.env,
        { publicationId: id, objector: who, changes: body.changes ?? [], reason: body.reason, locale },
        new Date(),
        defer,
      );
      if (c.get("htmlForm")) {
        return c.redirect(`/${locale}/subscription/objected?notice=${id}${objection.late ? "&late=1" : ""}`, 303);
      }
      return c.json(
        {
          id: objection.id,
          notice: id,
          customer: objection.customerId,
          changes: changes.map(({ id, effective }) => ({ id, effective })),
          receivedAt: objection.createdAt,
          deadline: objection.deadline,
          late: objection.late,
          receipt: objection.receipt,
          jwks: publicUrl(c.env, "/.well-known/jwks.json"),
          detail: objection.late
            ? `Objection received after the deadline (${objection.deadline}): recorded and marked late; a receipt is on its way to ${who.contact.email}.`
            : `Objection received within the window (deadline ${objection.deadline}); a receipt is on its way to ${who.contact.email}.`,
        },
        201,
      );
    }

    const { subscriber } = who;
    if (!body.organisation) {
      throw new ApiError("invalid_input", "organisation: is missing", {
        issues: [{ path: "organisation", message: "is missing" }],
      });
    }
    const locale: Locale = body.locale ?? subscriber.locale;
    const objection = await recordObjection(
      c.env,
      {
        publicationId: id,
        subscriber,
        token: token ?? "",
        organisation: body.organisation,
        reason: body.reason,
        changes: body.changes,
        locale,
      },
      new Date(),
      defer,
    );

    if (c.get("htmlForm")) return c.redirect(`/${locale}/subscription/objected?notice=${id}`, 303);
    return c.json(
      {
        id: objection.id,
        notice: id,
        organisation: objection.organisation,
        changes: objection.changes,
        receivedAt: objection.createdAt,
        deadline: objection.deadline,
        detail: `Objection received within the window (deadline ${objection.deadline}); a receipt is on its way to ${subscriber.email}.`,
      },
      201,
    );
  },
);

notices.get("/:id/deadline.ics", validate("query", z.object({ token: TokenField }).strict()), async (c) => {
  const id = noticeId(c);
  const { token } = c.req.valid("query");
  // A customer's contact (its notice token) or a self-subscriber (its manage token): the deadline is its own.
  const found = await authenticateContact(c.env, token);
  const subscriber = found
    ? { id: found.contact.id, locale: found.contact.locale ?? found.customer.locale }
    : await authenticate(c.env, token);
  await noticeExists(c.env, id);
  const window = await objectionWindow(c.env, id, subscriber.id);
  const s = t(subscriber.locale).deadlineCalendar;
  const delivered = window.deliveredAt.slice(0, 10);
  const title = s.title(id, vendor.name);
  const ics = icsCalendar(title, [
    {
      // One subscriber's one deadline: the same UID every time, so adding the file twice updates one event.
      uid: `objection-${id}-${subscriber.id}@${new URL(publicUrl(c.env, "/")).host}`,
      date: window.deadline,
      title,
      description: s.description(
        vendor.objectionWorkingDays,
        formatDate(delivered, subscriber.locale),
        vendor.privacyContact,
      ),
      url: publicUrl(c.env, `/${subscriber.locale}/annex-c/`),
      stamp: delivered,
    },
  ]);
  c.header("Cache-Control", "no-store");
  c.header("Content-Type", "text/calendar; charset=utf-8");
  return c.body(ics);
});

const base = `/:locale{${LOCALES.join("|")}}/subscription`;

function pageLocale(c: Context<AppEnv>): Locale {
  const locale = c.req.param("locale");
  const l: Locale = isLocale(locale) ? locale : DEFAULT_LOCALE;
  c.set("htmlForm", { locale: l });
  return l;
}

/** Pages mounted at the root, next to the subscription pages (listed in wrangler.toml's run_worker_first). */
export const noticePages = new Hono<AppEnv>();

noticePages.get(
  `${base}/object/:id{[0-9]+}`,
  validate("query", z.object({ token: TokenField }).strict()),
  async (c) => {
    const locale = pageLocale(c);
    const id = noticeId(c);
    const { token } = c.req.valid("query");
    const who = await objector(c.env, token);
    const pub = await noticeExists(c.env, id);
    const deadline =
      who.kind === "customer"
        ? await customerObjectionWindow(c.env, id, who.customer.externalId)
        : (await objectionWindow(c.env, id, who.subscriber.id)).deadline;
    const open = isWithinObjectionWindow(new Date(), deadline);
    const changes = await announcedChanges(c.env.DB, id);
    return objectionPage({
      locale,
      id,
      token,
      fingerprint: pub.fingerprint,
      deadline,
      open,
      customerName: who.kind === "customer" ? who.customer.name : undefined,
      changes,
    });
  },
);

noticePages.get(`${base}/objected`, (c) => objectedPage(pageLocale(c), c.req.query("late") === "1"));
