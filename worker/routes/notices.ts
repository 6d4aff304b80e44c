import { type Context, Hono } from "hono";
import { z } from "zod";
import { isWithinObjectionWindow, objectionDeadline } from "../../domain/calendar.ts";
import { icsCalendar } from "../../domain/icalendar.ts";
import { formatDate } from "../../domain/labels.ts";
import { subscriberLinks } from "../../emails/links.ts";
import { renderObjectionReceipt, renderVendorObjectionAlert } from "../../emails/objection.ts";
import { t } from "../../i18n/index.ts";
import { DEFAULT_LOCALE, isLocale, LOCALES, type Locale, publicUrl, vendor } from "../config.ts";
import { deliveryOf, insertObjection, listPublications } from "../db-notices.ts";
import { emailTransport, sendAndLog } from "../email/transport.ts";
import { ApiError } from "../errors.ts";
import type { DeliveryStatus } from "../notices/fanout.ts";
import { objectedPage, objectionPage } from "../pages/objection.ts";
import { bearerToken } from "../security.ts";
import { authenticate } from "../subscriptions.ts";
import type { AppEnv } from "../types.ts";
import { acceptBody, multiLineText, oneLineText, TokenField, validate } from "../validation.ts";

// Objections to a notice (DPA 5.3: the customer may object within 10 working days from receiving the notice).
// POST /api/notices/{id}/objections (JSON with a Bearer manage token, or the form below with the token as a field)
// and the worker-rendered form the notice's "object" button opens: /{locale}/subscription/object/{id}?token=…
// GET /api/notices/{id}/deadline.ics?token=… is the subscriber's own deadline as a calendar file, linked from the
// notice (Resend batch emails carry no attachments).

const ObjectionBody = z
  .object({
    organisation: oneLineText(200),
    reason: multiLineText(5000),
    token: TokenField.optional(),
    locale: z.enum(LOCALES).optional(),
  })
  .strict();

const FINAL_OR_SENDING: readonly DeliveryStatus[] = ["sent", "sending", "stuck"];

interface Window {
  deadline: string;
  deliveredAt: string;
}

/**
 * The subscriber's own window: counted from their delivery (the provider accepted the email; the first attempt if
 * that is all we know). The later of that and the deadline quoted in the email applies: nobody loses a day they were
 * promised in writing.
 */
async function objectionWindow(env: Env, publicationId: number, subscriberId: string): Promise<Window> {
  const delivery = await deliveryOf(env.DB, publicationId, subscriberId);
  if (!delivery || !FINAL_OR_SENDING.includes(delivery.status)) {
    throw new ApiError("not_found", `Notice ${publicationId} was not sent to this subscription.`);
  }
  const deliveredAt = delivery.sentAt ?? delivery.claimedAt;
  if (!deliveredAt) throw new ApiError("not_found", `Notice ${publicationId} was not sent to this subscription.`);
  const computed = objectionDeadline(new Date(deliveredAt), vendor.workingDayCalendar, vendor.objectionWorkingDays);
  const quoted = delivery.deadline ?? computed;
  // ISO dates compare as text: the later of the two.
  const deadline = [quoted, computed].sort()[1] ?? computed;
  return { deadline, deliveredAt };
}

async function noticeExists(env: Env, id: number) {
  const pub = (await listPublications(env.DB)).find((p) => p.sequence === id && p.kind === "notice");
  if (!pub) throw new ApiError("not_found", `There is no notice ${id}.`);
  return pub;
}

function noticeId(c: Context<AppEnv>): number {
  const id = Number(c.req.param("id"));
  if (!Number.isInteger(id) || id < 1) throw new ApiError("not_found", "There is no such notice.");
  return id;
}

export const notices = new Hono<AppEnv>();

notices.post(
  "/:id/objections",
  acceptBody({ errorRedirect: undefined }),
  validate("json", ObjectionBody),
  async (c) => {
    const id = noticeId(c);
    const body = c.req.valid("json");
    const token = bearerToken(c.req.header("Authorization")) ?? body.token;
    const subscriber = await authenticate(c.env, token);
    const pub = await noticeExists(c.env, id);
    const now = new Date();
    const window = await objectionWindow(c.env, id, subscriber.id);
    if (!isWithinObjectionWindow(now, window.deadline)) {
      throw new ApiError(
        "conflict",
        `The objection window for notice ${id} closed at the end of ${window.deadline} (Copenhagen time): ` +
          `${vendor.objectionWorkingDays} Danish working days from its delivery on ${window.deliveredAt.slice(0, 10)}. ` +
          `Contact ${vendor.privacyContact} if you still wish to raise a concern.`,
      );
    }
    const objection = {
      id: crypto.randomUUID(),
      publicationId: id,
      subscriberId: subscriber.id,
      email: subscriber.email,
      organisation: body.organisation,
      reason: body.reason,
      deadline: window.deadline,
      createdAt: now.toISOString(),
    };
    await insertObjection(c.env.DB, objection);

    const locale: Locale = body.locale ?? subscriber.locale;
    const common = {
      vendor,
      objectionId: objection.id,
      publicationId: String(id),
      fingerprint: pub.fingerprint,
      organisation: objection.organisation,
      reason: objection.reason,
      receivedAt: objection.createdAt,
      deadline: objection.deadline,
      subscriberEmail: subscriber.email,
    };
    const receipt = renderObjectionReceipt({
      ...common,
      locale,
      links: subscriberLinks(c.env.PUBLIC_BASE_URL, locale, token ?? ""),
    });
    const alert = renderVendorObjectionAlert({ ...common, adminUrl: publicUrl(c.env, "/api/admin/publications") });
    const transport = emailTransport(c.env);
    const mail = Promise.all([
      sendAndLog(transport, [{ to: subscriber.email, ...receipt }], "objection receipt", {
        idempotencyKey: `objection/${objection.id}/receipt`,
      }),
      sendAndLog(transport, [{ to: c.env.VENDOR_ALERT_EMAIL, ...alert }], "objection alert", {
        idempotencyKey: `objection/${objection.id}/alert`,
      }),
    ]);
    c.executionCtx.waitUntil(mail);

    if (c.get("htmlForm")) return c.redirect(`/${locale}/subscription/objected?notice=${id}`, 303);
    return c.json(
      {
        id: objection.id,
        notice: id,
        organisation: objection.organisation,
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
  const subscriber = await authenticate(c.env, c.req.valid("query").token);
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
    const subscriber = await authenticate(c.env, token);
    const pub = await noticeExists(c.env, id);
    const window = await objectionWindow(c.env, id, subscriber.id);
    const open = isWithinObjectionWindow(new Date(), window.deadline);
    return objectionPage({ locale, id, token, fingerprint: pub.fingerprint, deadline: window.deadline, open });
  },
);

noticePages.get(`${base}/objected`, (c) => objectedPage(pageLocale(c)));
