/**
 * A customer's notice contacts acting with the tokens their emails carry (README "Customers and evidence"): name a
 * different contact, one-click unsubscribe (RFC 8058), object to a notice, download its deadline. Tokens are 256-bit
 * HMACs derived with NOTICE_TOKEN_KEY (a registration's from its random id, customers/registrations.ts; a notice's like
 * a subscriber's manage token); only their SHA-256 is stored in `contact_tokens`.
 */
import { sha256Hex } from "../../domain/canonical.ts";
import { contactReplacedAlert, noContactLeftAlert } from "../../emails/customer.ts";
import {
  type ContactRecord,
  type CustomerRecord,
  findContactToken,
  loadCustomers,
  unsubscribeContactRow,
  writeCustomers,
} from "../db/customers.ts";
import { type EmailTransport, sendAndLog } from "../email/port.ts";
import { emailTransport } from "../email/transport.ts";
import { publicUrl } from "../env.ts";
import { ApiError } from "../http/errors.ts";
import { looksLikeToken } from "../http/security.ts";
import { newRegistration, queueRegistrations } from "./registrations.ts";

export interface ContactDeps {
  env: Env;
  now: Date;
  /** Runs work after the answer has gone (ExecutionContext.waitUntil). */
  defer: (work: Promise<unknown>) => void;
  transport?: EmailTransport;
}

export interface AuthenticatedContact {
  contact: ContactRecord;
  customer: CustomerRecord;
  /** The publication a notice token came with; null for the token of the "you are the notice contact" email. */
  publicationId: number | null;
}

/**
 * The contact (and its customer) a token belongs to, or null for a token that is malformed, unknown or whose contact
 * was removed from the customer. An unsubscribed contact and an ended contract still authenticate: the caller decides
 * what they may still do (e.g. name a replacement, or object to a notice already received).
 */
export async function authenticateContact(env: Env, token: string): Promise<AuthenticatedContact | null> {
  if (!looksLikeToken(token)) return null;
  return findContactToken(env.DB, await sha256Hex(token));
}

async function requireContact(env: Env, token: string): Promise<AuthenticatedContact> {
  const found = await authenticateContact(env, token);
  if (!found)
    throw new ApiError("invalid_token", "This link is not valid (any more). Use the one in your latest email.");
  return found;
}

function alertVendor(deps: ContactDeps, email: { subject: string; html: string; text: string }, what: string) {
  const transport = deps.transport ?? emailTransport(deps.env);
  deps.defer(sendAndLog(transport, [{ to: deps.env.VENDOR_ALERT_EMAIL, headers: {}, ...email }], what));
}

function adminUrl(env: Env, customer: CustomerRecord): string {
  return publicUrl(env, `/api/admin/customers/${encodeURIComponent(customer.externalId)}`);
}

/**
 * RFC 8058 one-click unsubscribe. The contact gets no more notices; when its customer (under contract) has no active
 * contact left, the vendor is told, since DPA 5.2 owes that customer written notice. Repeating it changes nothing and
 * alerts nobody again.
 */
export async function unsubscribeContact(deps: ContactDeps, token: string): Promise<AuthenticatedContact> {
  const found = await requireContact(deps.env, token);
  const { changed, activeLeft } = await unsubscribeContactRow(deps.env.DB, found.contact, deps.now.toISOString());
  if (changed && activeLeft === 0 && found.customer.endedAt === null) {
    const alert = noContactLeftAlert({
      customer: found.customer,
      email: found.contact.email,
      adminUrl: adminUrl(deps.env, found.customer),
    });
    alertVendor(deps, alert, "no contact left");
  }
  return found;
}

/**
 * "Name a different contact": the named address becomes a contact of the customer (and gets its own registration
 * email), the presenting contact is removed, both in one batch; the vendor is told so its customer list can follow.
 */
export async function replaceContact(
  deps: ContactDeps,
  token: string,
  replacement: { email: string; name?: string | undefined },
): Promise<{ email: string }> {
  const { contact, customer } = await requireContact(deps.env, token);
  if (customer.endedAt !== null) throw new ApiError("conflict", "This customer's contract has ended.");
  if (replacement.email === contact.email) {
    throw new ApiError("invalid_input", "email: name an address other than your own.", {
      issues: [{ path: "email", message: "must differ from the present contact's address" }],
    });
  }
  const stored = (await loadCustomers(deps.env.DB, { externalIds: [customer.externalId] })).get(customer.externalId);
  const known = stored?.contacts.some((k) => k.email === replacement.email) ?? false;
  const registration = known ? null : await newRegistration(deps.env);
  if (registration) await queueRegistrations(deps.env, [registration]);
  await writeCustomers(
    deps.env.DB,
    {
      customers: [],
      contacts: known
        ? []
        : [
            {
              id: crypto.randomUUID(),
              customerId: customer.externalId,
              email: replacement.email,
              name: replacement.name ?? null,
              locale: contact.locale,
            },
          ],
      removedContacts: [contact.id],
      ended: [],
      tokens: registration
        ? [{ customerId: customer.externalId, email: replacement.email, tokenHash: registration.tokenHash }]
        : [],
    },
    deps.now.toISOString(),
  );
  const alert = contactReplacedAlert({
    customer,
    email: contact.email,
    replacement: replacement.email,
    adminUrl: adminUrl(deps.env, customer),
  });
  alertVendor(deps, alert, "contact replaced");
  return { email: replacement.email };
}
