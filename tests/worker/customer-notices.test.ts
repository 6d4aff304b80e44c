/**
 * Notices per customer (README "How notices and objections work"; DPA 5.2, 5.3, 5.5), on real D1 migrations and the fake Resend:
 * - the publish plan resolves each customer under contract for its exact region and cohort, records
 *   publication_customers (concerned or not, and why) and the concerned customers' contacts' deliveries;
 * - a contact's email carries only its audience's rows, names its region and cohort, links its audience's JSON, in
 *   the contact's language (else the customer's), with a contact token that unsubscribes it in one click;
 * - Resend's email.delivered records the receipt and the deadline it honours (after 16:00 Copenhagen or on a closed
 *   day: the next working day); the objection window and deadline.ics use it; email.bounced marks the delivery;
 * - a self-subscriber who states a cohort gets only its rows; "I don't know" keeps every cohort's rows.
 */
import { env } from "cloudflare:workers";
import ICAL from "ical.js";
import { beforeAll, describe, expect, it } from "vitest";
import { type AnnexCDocument, annexCDocument, filterEntries } from "../../domain/annex.ts";
import { customerAnnexC } from "../../domain/customer-notice.ts";
import { locationLabel } from "../../domain/labels.ts";
import type { Change } from "../../domain/schema/change.ts";
import type { SubProcessor } from "../../domain/schema/subprocessor.ts";
import { t } from "../../i18n/index.ts";
import { resendAccount } from "../../testing/resend-control.ts";
import { vendor } from "../../worker/env.ts";
import { objectionWindow } from "../../worker/notices/objections.ts";
import { type PublishResult, publish } from "../../worker/notices/publish.ts";
import { call, json, outbox, resetTables, signedWebhook, signUpAndConfirm, subscribe, tokenFrom } from "./helpers.ts";
import {
  capturingQueue,
  drain,
  NEWCOMER,
  NEWCOMER_CHANGE,
  resetNoticeTables,
  seedCustomers,
  shippedContent,
} from "./notices-helpers.ts";

/** A new sub-processor whose only location applies to UK customers contracted after 5 July 2023. */
const UK_CURRENT_ONLY: SubProcessor = {
  id: "thames-archive",
  relationship: "third-party",
  website: "https://thames-archive.example",
  contact: { email: "privacy@thames-archive.example" },
  timeline: [
    {
      from: "2027-01-11",
      name: "Thames Archive Ltd",
      entity: { name: "Thames Archive Ltd", address: { street: "1 River Row", city: "London", country: "GB" } },
      purpose: { da: "Arkivering af kontodata", en: "Archives account data" },
      services: ["account-management"],
      dataCategories: ["name", "email-address"],
      locations: [
        {
          country: "GB",
          city: "Reading",
          appliesTo: [{ regions: ["uk"], cohorts: ["current"] }],
          transfer: { mechanism: "adequacy" },
        },
      ],
    },
  ],
};
const UK_CURRENT_CHANGE: Change = {
  id: "2027-01-11-thames-archive-added",
  announced: "2026-11-23",
  effective: "2027-01-11",
  kind: "added",
  subprocessors: ["thames-archive"],
  summary: { da: "Thames Archive Ltd tilføjes.", en: "Thames Archive Ltd is added." },
};

const content = shippedContent();
const base = await annexCDocument(content);
const ukOnly = await annexCDocument({
  ...content,
  subprocessors: [...content.subprocessors, UK_CURRENT_ONLY],
  changes: [...content.changes, UK_CURRENT_CHANGE],
});
const everyone = await annexCDocument({
  ...content,
  subprocessors: [...content.subprocessors, UK_CURRENT_ONLY, NEWCOMER],
  changes: [...content.changes, UK_CURRENT_CHANGE, NEWCOMER_CHANGE],
});

const fake = resendAccount(env.RESEND_BASE_URL, "re_customer_notices");
const sendVia = { EMAIL_TRANSPORT: "resend", RESEND_API_KEY: fake.apiKey, RESEND_MAX_RPS: "50" } as Partial<Env>;

const CONTACT = {
  ukLegacy: "dpo@uk-legacy.example",
  ukCurrent: "privacy@uk-current.example",
  ukCurrentDa: "jura@uk-current.example",
  de: "datenschutz@de-current.example",
  ended: "old@ended.example",
  unsubscribed: "gone@uk-current.example",
} as const;

const SUB = { legacy: "legacy-reader@sub.example", unknown: "unsure-reader@sub.example" } as const;

async function publishNow(doc: AnnexCDocument, at: string): Promise<{ result: PublishResult; drained: number }> {
  const { queue, sent } = capturingQueue();
  const result = await publish({ db: env.DB, queue, document: async () => doc, now: new Date(at) });
  await drain(sent, sendVia);
  return { result, drained: sent.length };
}

async function delivered() {
  return (await fake.state()).delivered;
}

function mailTo(mails: Awaited<ReturnType<typeof delivered>>, address: string) {
  const found = mails.filter((m) => m.to[0] === address);
  expect(found, `emails to ${address}`).toHaveLength(1);
  const mail = found[0];
  if (!mail?.text || !mail.html) throw new Error(`no notice for ${address}`);
  return { ...mail, text: mail.text, html: mail.html };
}

/** The "where" of every location line of the Annex C block in a notice's text part ("   - <where>: <mechanism>"). */
function annexLocations(text: string): string[] {
  return [...text.matchAll(/^ {3}- (.+?): /gm)].map((m) => m[1] ?? "").sort();
}

function expectedLocations(entries: ReturnType<typeof customerAnnexC>, locale: "da" | "en"): string[] {
  return entries.flatMap((e) => e.locations.map((l) => locationLabel(l, locale))).sort();
}

beforeAll(async () => {
  await resetTables();
  await resetNoticeTables();
  await fake.reset();
  await seedCustomers([
    {
      id: "UK-LEGACY",
      region: "uk",
      contractDate: "2023-07-05",
      locale: "en",
      contacts: [{ id: "c-uk-legacy", email: CONTACT.ukLegacy }],
    },
    {
      id: "UK-CURRENT",
      region: "uk",
      contractDate: "2023-07-06",
      locale: "en",
      contacts: [
        { id: "c-uk-current", email: CONTACT.ukCurrent },
        { id: "c-uk-current-da", email: CONTACT.ukCurrentDa, locale: "da" },
        { id: "c-uk-unsubscribed", email: CONTACT.unsubscribed, status: "unsubscribed" },
      ],
    },
    {
      id: "DE-CURRENT",
      region: "de",
      contractDate: "2024-02-01",
      locale: "da",
      contacts: [{ id: "c-de", email: CONTACT.de }],
    },
    {
      id: "UK-ENDED",
      region: "uk",
      contractDate: "2024-02-01",
      locale: "en",
      endedAt: "2026-10-01T00:00:00.000Z",
      contacts: [{ id: "c-ended", email: CONTACT.ended }],
    },
  ]);
  await signUpAndConfirm(SUB.legacy, { locale: "en", regions: ["uk"], cohort: "legacy" });
  await signUpAndConfirm(SUB.unknown, { locale: "en", regions: ["uk"], cohort: null });
  await publishNow(base, "2026-11-20T09:00:00Z");
});

describe("the publish plan per customer", () => {
  it("a change touching only UK customers contracted after 5 July 2023 reaches only their contacts", async () => {
    const { result } = await publishNow(ukOnly, "2026-11-23T09:00:00Z");
    expect(result).toMatchObject({
      status: "published",
      sequence: 2,
      customers: { concerned: 1, notConcerned: 2, contacts: 2 },
    });
    const { results: rows } = await env.DB.prepare(
      "SELECT customer_id, region, cohort, concerned, reason FROM publication_customers WHERE publication_id = 2 " +
        "ORDER BY customer_id",
    ).all<{ customer_id: string; region: string; cohort: string | null; concerned: number; reason: string | null }>();
    // The ended contract is not a customer any more: no row, no notice.
    expect(rows.map((r) => [r.customer_id, r.region, r.cohort, r.concerned])).toEqual([
      ["DE-CURRENT", "de", "current", 0],
      ["UK-CURRENT", "uk", "current", 1],
      ["UK-LEGACY", "uk", "legacy", 0],
    ]);
    const legacy = rows.find((r) => r.customer_id === "UK-LEGACY");
    expect(legacy?.reason).toContain("no row of its Annex C changed");
    expect(legacy?.reason).toContain("cohort legacy");
    expect(rows.find((r) => r.customer_id === "UK-CURRENT")?.reason).toBeNull();

    const { results: deliveries } = await env.DB.prepare(
      "SELECT subscriber_id, customer_id, audience, status FROM deliveries WHERE publication_id = 2 " +
        "AND customer_id IS NOT NULL ORDER BY subscriber_id",
    ).all<{ subscriber_id: string; customer_id: string; audience: string; status: string }>();
    expect(deliveries.map((d) => [d.subscriber_id, d.customer_id, JSON.parse(d.audience), d.status])).toEqual([
      ["c-uk-current", "UK-CURRENT", { region: "uk", cohort: "current" }, "sent"],
      ["c-uk-current-da", "UK-CURRENT", { region: "uk", cohort: "current" }, "sent"],
    ]);
    const to = (await delivered()).flatMap((m) => m.to);
    expect(to).toContain(CONTACT.ukCurrent);
    for (const nobody of [CONTACT.ukLegacy, CONTACT.de, CONTACT.ended, CONTACT.unsubscribed, SUB.legacy]) {
      expect(to, nobody).not.toContain(nobody);
    }
    // The subscriber who does not know their cohort sees every cohort's UK rows, so this change is theirs too.
    expect(to).toContain(SUB.unknown);
  });

  it("the two UK customers get different rows: each exactly its own cohort's Annex C, in its contact's language", async () => {
    await fake.reset();
    const { result } = await publishNow(everyone, "2026-11-24T09:00:00Z");
    expect(result).toMatchObject({ status: "published", sequence: 3, customers: { concerned: 3, contacts: 4 } });
    const mails = await delivered();
    const legacy = mailTo(mails, CONTACT.ukLegacy);
    const current = mailTo(mails, CONTACT.ukCurrent);
    const currentDa = mailTo(mails, CONTACT.ukCurrentDa);
    const de = mailTo(mails, CONTACT.de);
    const entries = everyone.snapshot.entries;
    const legacyRows = customerAnnexC(entries, { region: "uk", cohort: "legacy" });
    const currentRows = customerAnnexC(entries, { region: "uk", cohort: "current" });
    expect(annexLocations(legacy.text)).toEqual(expectedLocations(legacyRows, "en"));
    expect(annexLocations(current.text)).toEqual(expectedLocations(currentRows, "en"));
    expect(annexLocations(currentDa.text)).toEqual(expectedLocations(currentRows, "da"));
    expect(annexLocations(legacy.text)).not.toEqual(annexLocations(current.text));
    // Only the later contracts have the UK-only archive; only the earlier ones keep Azure in Dublin.
    expect(current.text).toContain("Thames Archive Ltd");
    expect(legacy.text).not.toContain("Thames Archive Ltd");
    expect(legacy.text).toContain("Dublin, Ireland");
    expect(current.text).not.toContain("Dublin, Ireland");

    // Each names the region and cohort it was resolved for, and links that audience's permanent JSON.
    expect(legacy.text).toContain("This notice covers customers in: United Kingdom.");
    expect(legacy.text).toContain("Customers contracted on or before 5 July 2023");
    expect(current.text).toContain("Customers contracted after 5 July 2023");
    expect(legacy.text).toContain("https://portal.example/annex-c/2027-01-11/uk/legacy.json");
    expect(current.text).toContain("https://portal.example/annex-c/2027-01-11/uk/current.json");
    expect(currentDa.html).toContain('<html lang="da">');
    expect(currentDa.text).toContain("Kunder med kontrakt indgået efter 5. juli 2023");
    // A contact without a language of its own gets its customer's (DE-CURRENT is Danish).
    expect(de.html).toContain('<html lang="da">');
    expect(de.text).toContain("https://portal.example/annex-c/2027-01-11/de/current.json");
    // Contacts are not subscribers: no manage link, their own one-click unsubscribe.
    expect(legacy.text).not.toContain("/subscription/manage");
    expect(legacy.headers?.["List-Unsubscribe"]).toMatch(
      /^<https:\/\/portal\.example\/api\/customers\/contacts\/unsubscribe\?token=[A-Za-z0-9_-]{43}&locale=en>$/,
    );
    expect(legacy.headers?.["List-Unsubscribe-Post"]).toBe("List-Unsubscribe=One-Click");

    // The contact token of each notice is registered, as a hash, with its publication.
    const tokens = await env.DB.prepare(
      "SELECT contact_id, publication_id FROM contact_tokens WHERE publication_id = 3 ORDER BY contact_id",
    ).all<{ contact_id: string; publication_id: number }>();
    expect(tokens.results.map((t) => t.contact_id)).toEqual(["c-de", "c-uk-current", "c-uk-current-da", "c-uk-legacy"]);
  });

  it("a self-subscriber with a cohort gets only its rows; one who does not know gets every cohort's", async () => {
    const mails = await delivered();
    const entries = everyone.snapshot.entries;
    const legacy = mailTo(mails, SUB.legacy);
    const unknown = mailTo(mails, SUB.unknown);
    const locations = (audience: { regions: string[]; cohort?: string }) =>
      filterEntries(entries, audience)
        .flatMap((e) => e.locations.map((l) => l))
        .map((l) => locationLabel(l, "en"));
    // A subscriber's lines also say whom a location applies to, in brackets after the place.
    const place = (w: string) => w.replace(/ \(.*$/, "");
    const legacyWhere = new Set(annexLocations(legacy.text).map(place));
    const unknownWhere = new Set(annexLocations(unknown.text).map(place));
    expect(legacyWhere).toEqual(new Set(locations({ regions: ["uk"], cohort: "legacy" })));
    expect(unknownWhere).toEqual(new Set(locations({ regions: ["uk"] })));
    expect(legacy.text).not.toContain("Thames Archive Ltd");
    expect(unknown.text).toContain("Thames Archive Ltd");
    expect(legacy.text).toContain("Customers contracted on or before 5 July 2023");
    const audiences = await env.DB.prepare(
      "SELECT d.audience FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id WHERE d.publication_id = 3 " +
        "ORDER BY s.email",
    ).all<{ audience: string | null }>();
    expect(audiences.results.map((r) => r.audience)).toEqual([JSON.stringify({ cohort: "legacy" }), null]);
  });

  it("one click unsubscribes a contact; opening the link alone changes nothing; a forged token is refused", async () => {
    const legacy = mailTo(await delivered(), CONTACT.ukLegacy);
    const url = /<([^>]+)>/.exec(legacy.headers?.["List-Unsubscribe"] ?? "")?.[1] ?? "";
    // Opening the link (a GET) leads to the contact's page, whose button posts the one-click form.
    const opened = await call(url);
    expect(opened.status).toBe(303);
    const page = await call(opened.headers.get("location") ?? "");
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('name="List-Unsubscribe" value="One-Click"');
    expect(
      (await env.DB.prepare("SELECT status FROM customer_contacts WHERE id = 'c-uk-legacy'").first())?.status,
    ).toBe("active");
    const res = await call(url, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "List-Unsubscribe=One-Click",
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "unsubscribed" });
    expect(
      (await env.DB.prepare("SELECT status FROM customer_contacts WHERE id = 'c-uk-legacy'").first())?.status,
    ).toBe("unsubscribed");
    const bad = await call(url.replace(/token=[^&]+/, `token=${"x".repeat(43)}`), {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "List-Unsubscribe=One-Click",
    });
    expect(bad.status).toBe(400);
    expect(bad.headers.get("content-type")).toContain("application/problem+json");
  });
});

describe("receipt and the honoured deadline (DPA 5.3)", () => {
  const signed = (payload: object) => signedWebhook(JSON.stringify(payload));
  const delivery = (contactId: string) =>
    env.DB.prepare(
      "SELECT message_id, deadline, delivered_at, honoured_deadline, bounced_at FROM deliveries " +
        "WHERE publication_id = 3 AND subscriber_id = ?1",
    )
      .bind(contactId)
      .first<{
        message_id: string;
        deadline: string;
        delivered_at: string | null;
        honoured_deadline: string | null;
        bounced_at: string | null;
      }>();

  /** Sent on Wednesday 7 January 2026 at 11:00 Copenhagen: the email stated 21 January (10 working days). */
  async function sentOnWednesday(contactId: string): Promise<string> {
    await env.DB.prepare(
      "UPDATE deliveries SET claimed_at = ?2, sent_at = ?2, deadline = '2026-01-21', delivered_at = NULL, " +
        "honoured_deadline = NULL WHERE publication_id = 3 AND subscriber_id = ?1",
    )
      .bind(contactId, "2026-01-07T10:00:00.000Z")
      .run();
    const row = await delivery(contactId);
    if (!row?.message_id) throw new Error(`no message id for ${contactId}`);
    return row.message_id;
  }

  /** The tags the email was sent with, which the provider sends back with its events. */
  const tagsOf = async (messageId: string | undefined) =>
    (await fake.state()).delivered.find((d) => d.id === messageId)?.tags;

  async function deliveredAt(messageId: string, when: string) {
    const tags = await tagsOf(messageId);
    const res = await call(
      "/api/webhooks/resend",
      signed({ type: "email.delivered", created_at: when, data: { email_id: messageId, to: ["x@example.com"], tags } }),
    );
    expect(res.status).toBe(200);
    return (await res.json()) as { status: string; matched: boolean; honouredDeadline?: string };
  }

  it("delivered before 16:00 on a working day: received that day, the stated deadline holds", async () => {
    const id = await sentOnWednesday("c-uk-current");
    expect(await deliveredAt(id, "2026-01-07T10:01:00.000Z")).toMatchObject({ matched: true });
    expect(await delivery("c-uk-current")).toMatchObject({
      delivered_at: "2026-01-07T10:01:00.000Z",
      honoured_deadline: "2026-01-21",
      deadline: "2026-01-21",
    });
  });

  it("a receipt finds its notice by the delivery its tags name, and the message id must be that email's", async () => {
    const id = await sentOnWednesday("c-uk-legacy");
    const tags = await tagsOf(id);
    // Resend sends back the tags the email was sent with: which notice, to which recipient.
    expect(tags).toEqual({ notice: "3", recipient: "c-uk-legacy" });
    const event = async (data: object) =>
      (await call(
        "/api/webhooks/resend",
        signed({
          type: "email.delivered",
          created_at: "2026-01-07T12:00:00.000Z",
          data: { to: ["x@example.com"], ...data },
        }),
      ).then((r) => r.json())) as { matched: boolean };
    // Another email's id under these tags is not this notice; nor is this id without them (its row is found by its
    // key, so the ledger keeps no index of the message ids of tagged notices).
    expect(await event({ email_id: "another-email", tags })).toMatchObject({ matched: false });
    expect(await event({ email_id: id })).toMatchObject({ matched: false });
    expect((await delivery("c-uk-legacy"))?.delivered_at).toBeNull();
    expect(await event({ email_id: id, tags })).toMatchObject({ matched: true });
    expect((await delivery("c-uk-legacy"))?.delivered_at).toBe("2026-01-07T12:00:00.000Z");
    // A notice sent before its emails carried tags (migration 0016) is found by its message id.
    await env.DB.prepare(
      "UPDATE deliveries SET tagged = 0, delivered_at = NULL WHERE publication_id = 3 AND subscriber_id = 'c-uk-legacy'",
    ).run();
    expect(await event({ email_id: id })).toMatchObject({ matched: true });
    expect((await delivery("c-uk-legacy"))?.delivered_at).toBe("2026-01-07T12:00:00.000Z");
  });

  it("delivered at 16:30 Copenhagen: received the next working day, one more day honoured", async () => {
    const id = await sentOnWednesday("c-uk-current-da");
    expect(await deliveredAt(id, "2026-01-07T15:30:00.000Z")).toMatchObject({ honouredDeadline: "2026-01-22" });
    expect(await delivery("c-uk-current-da")).toMatchObject({
      deadline: "2026-01-21",
      honoured_deadline: "2026-01-22",
    });
    // A later report of the same delivery (another event id) changes nothing.
    await deliveredAt(id, "2026-01-09T09:00:00.000Z");
    expect((await delivery("c-uk-current-da"))?.delivered_at).toBe("2026-01-07T15:30:00.000Z");
  });

  it("delivered on a Saturday: received Monday; the objection window and deadline.ics honour the later day", async () => {
    const id = await sentOnWednesday("c-de");
    expect(await deliveredAt(id, "2026-01-10T09:00:00.000Z")).toMatchObject({ honouredDeadline: "2026-01-26" });
    const window = await objectionWindow(env, 3, "c-de");
    expect(window.deadline).toBe("2026-01-26");
    const de = mailTo(await delivered(), CONTACT.de);
    const ics = /https:\/\/portal\.example(\/api\/notices\/3\/deadline\.ics\?token=[A-Za-z0-9_-]+)/.exec(de.text)?.[1];
    if (!ics) throw new Error("no deadline.ics link in the contact's notice");
    const res = await call(ics);
    expect(res.status).toBe(200);
    const vevent = new ICAL.Component(ICAL.parse(await res.text())).getFirstSubcomponent("vevent");
    if (!vevent) throw new Error("no event in deadline.ics");
    expect(new ICAL.Event(vevent).startDate.toString()).toBe("2026-01-26");
  });

  it("deadline.ics takes the contact's notice token (one token check for every contact link), not a removed contact's", async () => {
    const de = mailTo(await delivered(), CONTACT.de);
    const ics = /https:\/\/portal\.example(\/api\/notices\/3\/deadline\.ics\?token=[A-Za-z0-9_-]+)/.exec(de.text)?.[1];
    if (!ics) throw new Error("no deadline.ics link in the contact's notice");
    const row = await env.DB.prepare(
      "SELECT COALESCE(k.locale, c.locale) AS locale FROM customer_contacts k JOIN customers c " +
        "ON c.external_id = k.customer_id WHERE k.id = 'c-de'",
    ).first<{ locale: "da" | "en" }>();
    const vevent = new ICAL.Component(ICAL.parse(await (await call(ics)).text())).getFirstSubcomponent("vevent");
    // In the contact's language (else its customer's), and one event per contact.
    expect(vevent?.getFirstPropertyValue("summary")).toBe(
      t(row?.locale ?? "da").deadlineCalendar.title(3, vendor.name),
    );
    expect(String(vevent?.getFirstPropertyValue("uid"))).toContain("objection-3-c-de@");
    // A contact staff (or a replacement) removed no longer acts with its old links.
    await env.DB.prepare("UPDATE customer_contacts SET status = 'removed' WHERE id = 'c-de'").run();
    try {
      const refused = await call(ics);
      expect(refused.status).toBe(401);
      expect(refused.headers.get("content-type")).toContain("application/problem+json");
    } finally {
      await env.DB.prepare("UPDATE customer_contacts SET status = 'active' WHERE id = 'c-de'").run();
    }
  });

  it("email.bounced marks the delivery bounced and suppresses the contact", async () => {
    const row = await delivery("c-uk-current");
    const res = await call(
      "/api/webhooks/resend",
      signed({
        type: "email.bounced",
        created_at: "2026-01-07T10:05:00.000Z",
        data: { email_id: row?.message_id, to: [CONTACT.ukCurrent], tags: await tagsOf(row?.message_id) },
      }),
    );
    expect(await res.json()).toMatchObject({ status: "processed", bounced: true, suppressed: 1 });
    expect((await delivery("c-uk-current"))?.bounced_at).toBe("2026-01-07T10:05:00.000Z");
    expect(
      (await env.DB.prepare("SELECT status FROM customer_contacts WHERE id = 'c-uk-current'").first())?.status,
    ).toBe("suppressed");
  });
});

describe("the contract question for self-subscribers", () => {
  async function manageToken(email: string): Promise<string> {
    const welcome = (await outbox(email)).find((m) => m.text.includes("/subscription/manage?token="));
    if (!welcome) throw new Error(`no welcome email for ${email}`);
    return tokenFrom(welcome, "/subscription/manage");
  }

  it("PATCH /me sets and clears the cohort; an unknown cohort is a 422 naming the field", async () => {
    const auth = { Authorization: `Bearer ${await manageToken(SUB.unknown)}` };
    const patch = (body: unknown) => call("/api/subscriptions/me", { ...json(body, auth), method: "PATCH" });
    const set = await patch({ cohort: "current" });
    expect(set.status).toBe(200);
    expect(((await set.json()) as { subscription: { cohort: string | null } }).subscription.cohort).toBe("current");
    const cleared = await patch({ cohort: null });
    expect(((await cleared.json()) as { subscription: { cohort: string | null } }).subscription.cohort).toBeNull();
    const bad = await patch({ cohort: "platinum" });
    expect(bad.status).toBe(422);
    const problem = (await bad.json()) as { errors: { path: string; message: string }[] };
    expect(problem.errors[0]?.path).toBe("cohort");
    expect(problem.errors[0]?.message).toContain("legacy, current");
    expect((await subscribe({ email: "x@sub.example", cohort: "platinum" })).status).toBe(422);
  });

  it("the manage page asks the question with the vendor's cohorts that a contract date decides", async () => {
    const token = await manageToken(SUB.legacy);
    const res = await call(`/en/subscription/manage?token=${token}`);
    const page = await res.text();
    expect(page).toContain("When did your organisation sign its contract with");
    expect(page).toMatch(/value="legacy" checked> Customers contracted on or before 5 July 2023/);
    expect(page).toContain('value="current"> Customers contracted after 5 July 2023');
    expect(page).toContain("I don&#39;t know");
    expect(page).not.toContain('value="legacy-switch"');
    // The form posts it: "" is "I don't know".
    const saved = await call("/api/subscriptions/me", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams([
        ["token", token],
        ["_method", "PATCH"],
        ["topics", "subprocessors"],
        ["regions", "uk"],
        ["cohort", ""],
      ]).toString(),
    });
    expect(saved.status).toBe(200);
    expect(((await saved.json()) as { subscription: { cohort: string | null } }).subscription.cohort).toBeNull();
  });
});
