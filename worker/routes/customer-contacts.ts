/**
 * /api/customers/contacts/unsubscribe: the one-click unsubscribe (RFC 8058) of a customer's notice contact, linked
 * from its notice's List-Unsubscribe header and footer with the contact's notice token. POST unsubscribes (200, no
 * redirect); GET, what a mail client without one-click support opens, shows the button and changes nothing.
 */
import { Hono } from "hono";
import { DEFAULT_LOCALE } from "../env.ts";
import { ApiError } from "../http/errors.ts";
import type { AppEnv } from "../http/types.ts";
import { acceptBody, OneClickBody, TokenQuery, validate } from "../http/validation.ts";
import { contactFromToken, unsubscribeContactWithToken } from "../notices/contacts.ts";
import { unsubscribedPage, unsubscribePage } from "../pages/subscription.ts";

const ENDPOINT = "/api/customers/contacts/unsubscribe";

const invalid = () =>
  new ApiError(
    "invalid_token",
    "This unsubscribe link is not valid. It may be incomplete, or the contact was removed.",
  );

const customerContacts = new Hono<AppEnv>();

customerContacts.get("/unsubscribe", validate("query", TokenQuery), async (c) => {
  const { token, locale } = c.req.valid("query");
  const contact = await contactFromToken(c.env, token);
  if (!contact) throw invalid();
  return unsubscribePage(locale ?? contact.locale ?? DEFAULT_LOCALE, token, ENDPOINT);
});

customerContacts.post(
  "/unsubscribe",
  validate("query", TokenQuery),
  acceptBody(),
  validate("json", OneClickBody),
  async (c) => {
    const { token, locale } = c.req.valid("query");
    const contact = await unsubscribeContactWithToken(c.env, token, new Date());
    if (!contact) throw invalid();
    if (c.get("htmlForm")) return unsubscribedPage(locale ?? contact.locale);
    return c.json({ status: "unsubscribed" }, 200);
  },
);

export default customerContacts;
