import { type Context, Hono } from "hono";
import { z } from "zod";
import { isWithinObjectionWindow } from "../../domain/calendar.ts";
import { icsCalendar } from "../../domain/icalendar.ts";
import { formatDate } from "../../domain/labels.ts";
import { LOCALES, type Locale } from "../../domain/schema/common.ts";
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
import { html, page } from "../pages/html.ts";
import { authenticate } from "../subscriptions/use-cases.ts";

// Objections to a notice (DPA 5.3: the customer may object within 10 working days from receiving the notice); the
// use case and its window are notices/objections.ts.
// POST /api/notices/{id}/objections (JSON with a Bearer manage token, or the form below with the token as a field)
// and the worker-rendered form the notice's "object" button opens: /{locale}/subscription/object/{id}?token=…
// GET /api/notices/{id}/deadline.ics?token=… is the subscriber's own deadline as a calendar file, linked from the
// notice (Resend batch emails carry no attachments).

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

const DEADLINE = {
  da: {
    title: (id: number, vendor: string) => `Sidste dag for indsigelse mod ${vendor}s varsel nr. ${id}`,
    description: (days: number, delivered: string, mail: string) =>
      `Databehandleraftalen 5.3: ${days} arbejdsdage (dansk kalender) fra modtagelsen af varslet den ${delivered}. Brug linket i varslet for at gøre indsigelse, eller skriv til ${mail}.`,
  },
  en: {
    title: (id: number, vendor: string) => `Last day to object to ${vendor}'s notice no. ${id}`,
    description: (days: number, delivered: string, mail: string) =>
      `DPA 5.3: ${days} working days (Danish calendar) from receiving the notice on ${delivered}. Use the link in the notice to object, or write to ${mail}.`,
  },
} as const;

notices.get("/:id/deadline.ics", validate("query", z.object({ token: TokenField }).strict()), async (c) => {
  const id = noticeId(c);
  const subscriber = await authenticate(c.env, c.req.valid("query").token);
  await noticeExists(c.env, id);
  const window = await objectionWindow(c.env, id, subscriber.id);
  const s = DEADLINE[subscriber.locale];
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

const PAGE = {
  da: {
    title: (id: number) => `Indsigelse mod varsel nr. ${id}`,
    intro: (vendor: string) =>
      `Her kan du gøre indsigelse mod ændringen af ${vendor}s underdatabehandlere. Indsigelsen sendes til ${vendor}, og du får en kvittering på e-mail.`,
    customerIntro: (vendor: string, customer: string) =>
      `Her kan du på vegne af ${customer} gøre indsigelse mod ændringen af ${vendor}s underdatabehandlere. Indsigelsen sendes til ${vendor}, og du får en signeret kvittering på e-mail.`,
    deadline: (date: string) => `Frist: ${date} (til og med, dansk tid).`,
    closed: (date: string) => `Fristen for indsigelse udløb ${date}. Kontakt os, hvis du stadig har indvendinger:`,
    customerLate: (date: string) =>
      `Fristen udløb ${date}. En indsigelse nu bliver stadig registreret, men som for sent indgivet (databehandleraftalen 5.3).`,
    changes: "Ændringer, du gør indsigelse mod",
    customerChanges: "Ændringer, du gør indsigelse mod (vælg mindst én)",
    effective: (date: string) => `træder i kraft ${date}`,
    organisation: "Organisation",
    reason: "Begrundelse",
    submit: "Send indsigelse",
    fingerprint: "Fingeraftryk",
    doneTitle: "Indsigelsen er modtaget",
    done: "Tak. Vi har registreret din indsigelse og sendt en kvittering til din e-mail.",
    doneLate: "Indsigelsen kom efter fristen og er registreret som for sent indgivet; kvitteringen siger det samme.",
  },
  en: {
    title: (id: number) => `Object to notice no. ${id}`,
    intro: (vendor: string) =>
      `Use this form to object to the change in ${vendor}'s sub-processors. The objection goes to ${vendor}, and you receive a receipt by email.`,
    customerIntro: (vendor: string, customer: string) =>
      `Use this form to object, on behalf of ${customer}, to the change in ${vendor}'s sub-processors. The objection goes to ${vendor}, and you receive a signed receipt by email.`,
    deadline: (date: string) => `Deadline: ${date} (inclusive, Danish time).`,
    closed: (date: string) => `The deadline for objections passed on ${date}. Contact us if you still have concerns:`,
    customerLate: (date: string) =>
      `The deadline passed on ${date}. An objection now is still recorded, but marked as late (DPA 5.3).`,
    changes: "Changes you object to",
    customerChanges: "Changes you object to (choose at least one)",
    effective: (date: string) => `takes effect on ${date}`,
    organisation: "Organisation",
    reason: "Reason",
    submit: "Send objection",
    fingerprint: "Fingerprint",
    doneTitle: "Objection received",
    done: "Thank you. We have recorded your objection and sent a receipt to your email address.",
    doneLate: "The objection arrived after the deadline and is recorded as late; the receipt says so too.",
  },
} as const;

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
    const s = PAGE[locale];
    const id = noticeId(c);
    const { token } = c.req.valid("query");
    const who = await objector(c.env, token);
    const pub = await noticeExists(c.env, id);
    const deadline =
      who.kind === "customer"
        ? await customerObjectionWindow(c.env, id, who.customer.externalId)
        : (await objectionWindow(c.env, id, who.subscriber.id)).deadline;
    const open = isWithinObjectionWindow(new Date(), deadline);
    const deadlineText = formatDate(deadline, locale);
    if (!open && who.kind === "subscriber") {
      return page({
        locale,
        title: s.title(id),
        body: html`<p>${s.closed(deadlineText)} <a href="mailto:${vendor.privacyContact}">${vendor.privacyContact}</a></p>`,
        status: 409,
      });
    }
    // Checkboxes, so the form works without JavaScript; a customer must name at least one (checked on submit).
    const changes = await announcedChanges(c.env.DB, id);
    const customer = who.kind === "customer";
    const body = html`<p>${customer ? s.customerIntro(vendor.name, who.customer.name) : s.intro(vendor.name)}</p>
<p><strong>${open ? s.deadline(deadlineText) : s.customerLate(deadlineText)}</strong></p>
<form method="post" action="/api/notices/${id}/objections">
<input type="hidden" name="token" value="${token}">
<input type="hidden" name="locale" value="${locale}">
<fieldset><legend>${customer ? s.customerChanges : s.changes}</legend>
${changes.map(
  (ch, i) =>
    html`<p><input type="checkbox" id="change-${i}" name="changes" value="${ch.id}"${changes.length === 1 && customer ? html` checked` : ""}> <label for="change-${i}">${ch.summary[locale]} (${s.effective(formatDate(ch.effective, locale))})</label></p>`,
)}
</fieldset>
${customer ? "" : html`<p><label for="organisation">${s.organisation}</label><br><input id="organisation" name="organisation" required maxlength="200" autocomplete="organization"></p>`}
<p><label for="reason">${s.reason}</label><br><textarea id="reason" name="reason" required maxlength="5000" rows="8" cols="60"></textarea></p>
<p><button type="submit">${s.submit}</button></p>
</form>
<p><small>${s.fingerprint}: <code>${pub.fingerprint}</code></small></p>`;
    return page({ locale, title: s.title(id), body });
  },
);

noticePages.get(`${base}/objected`, (c) => {
  const locale = pageLocale(c);
  const s = PAGE[locale];
  const late = c.req.query("late") === "1";
  return page({
    locale,
    title: s.doneTitle,
    body: html`<p>${s.done}</p>${late ? html`<p><strong>${s.doneLate}</strong></p>` : ""}`,
  });
});
