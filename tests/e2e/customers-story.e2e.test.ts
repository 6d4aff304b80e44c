// Issue 13 end to end, as staff, customers and an auditor live it (README "Customers and evidence", "Objections and
// evidence"), against the real `npm start`: staff import four customers with `npm run customers -- import`; a change
// is published; each customer's contact gets one notice holding exactly the Annex C rows of its region and cohort
// (DPA 5.2, 5.5); one contact objects from its notice in the browser and checks the signed receipt with `jose`
// against the published JWKS (DPA 5.3); staff propose an alternative and resolve the objection, each step mailed to
// the contact (DPA 5.4); the provider's `email.delivered` webhooks prove receipt; and the evidence "as of" a moment
// past the deadline shows the three silent customers' consent deemed and the objector's not (DPA 5.3).
//
// Its own portal in its own copy of the checkout: it edits content and restarts the server (the local D1 is kept).
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { compactVerify, createLocalJWKSet, type JSONWebKeySet } from "jose";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadContent } from "../../content-io/load-content.ts";
import { publishedSnapshot } from "../../domain/annex.ts";
import type { Content } from "../../domain/content.ts";
import { customerAnnexC } from "../../domain/customer-notice.ts";
import { addDays } from "../../domain/dates.ts";
import type { PublicationEvidence } from "../../domain/evidence.ts";
import { locationLabel } from "../../domain/labels.ts";
import type { Locale } from "../../domain/schema/common.ts";
import { customerCohort } from "../../domain/schema/customer.ts";
import { t } from "../../i18n/index.ts";
import { addSubProcessor, effective, today } from "../../testing/content-change.ts";
import {
  copyCheckout,
  emailLinks,
  type OutboxEmail,
  outbox,
  type Portal,
  removeCopy,
  startPortal,
  waitForEmail,
} from "../../testing/portal.ts";
import { signedWebhook } from "../../testing/resend-webhook.ts";
import { expectClean, expectPageBasics, hasChromium, launch, newContext, type Watch, watch } from "./browser.ts";

const NEW_ID = "example-story-desk";
const CHANGE_ID = `${effective}-${NEW_ID}-added`;

/** The four customers of the issue: UK on or before 5 July 2023, UK after, Canada after, EEA after. */
const CUSTOMERS = [
  { externalId: "UK-OLD", name: "Thames Legacy Ltd", region: "uk", contractDate: "2023-03-14", locale: "en" },
  { externalId: "UK-NEW", name: "Severn Systems Ltd", region: "uk", contractDate: "2024-02-01", locale: "en" },
  { externalId: "CA-NEW", name: "Maple Analytics Inc", region: "ca", contractDate: "2024-05-20", locale: "en" },
  { externalId: "EEA-NEW", name: "Fjordlys AS", region: "eea", contractDate: "2023-09-01", locale: "da" },
] as const;
type CustomerId = (typeof CUSTOMERS)[number]["externalId"];
/** One contact each; two speak another language than their customer's record says. */
const CONTACTS: Record<CustomerId, { email: string; locale: Locale | "" }> = {
  "UK-OLD": { email: "dpo@thames.example", locale: "" },
  "UK-NEW": { email: "privacy@severn.example", locale: "da" },
  "CA-NEW": { email: "legal@maple.example", locale: "" },
  "EEA-NEW": { email: "gdpr@fjordlys.example", locale: "en" },
};
const OBJECTOR: CustomerId = "UK-NEW";
const contactLocale = (c: (typeof CUSTOMERS)[number]): Locale => CONTACTS[c.externalId].locale || c.locale;

/**
 * The Annex C rows a notice's text lists (emails/notice.ts): `N. <name> (…)` opens a row and `   - <where>: …` names
 * one of its locations, after the Annex C heading of the email's language.
 */
function rowsOfEmail(text: string, locale: Locale): Map<string, string[]> {
  const heading = t(locale).notice.annexHeading;
  const at = text.indexOf(heading);
  expect(at, `the notice has the heading "${heading}"`).toBeGreaterThanOrEqual(0);
  const rows = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of text.slice(at + heading.length).split(/\r?\n/)) {
    const entry = /^\d+\. (.+) \(/.exec(line);
    if (entry?.[1]) {
      current = [];
      rows.set(entry[1], current);
      continue;
    }
    const location = /^ {3}- (.+?): /.exec(line);
    if (location?.[1] && current) current.push(location[1]);
  }
  for (const list of rows.values()) list.sort();
  return rows;
}

/** The same rows derived from the content itself: the published Annex C resolved for one region and cohort. */
function rowsOfContent(content: Content, audience: { region: string; cohort: string | undefined }, locale: Locale) {
  const entries = customerAnnexC(publishedSnapshot(content).entries, audience);
  return new Map(entries.map((e) => [e.name, e.locations.map((l) => locationLabel(l, locale)).sort()]));
}

function customersCli(dir: string, url: string, ...args: string[]) {
  const { ADMIN_TOKEN: _, ...env } = process.env;
  return spawnSync("npm", ["run", "--silent", "customers", "--", ...args], {
    cwd: dir,
    encoding: "utf8",
    env: { ...env, PUBLIC_BASE_URL: url },
  });
}

describe.skipIf(!hasChromium)("customers notified with their own Annex C, an objection, and the evidence", () => {
  let dir: string;
  let portal: Portal;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let w: Watch;
  let publication: { sequence: number; fingerprint: string };
  const notices = new Map<CustomerId, OutboxEmail>();
  let objectionId: string;

  const admin = (path: string, init: RequestInit = {}) =>
    fetch(`${portal.url}${path}`, {
      ...init,
      headers: { Authorization: `Bearer ${portal.adminToken}`, ...(init.headers ?? {}) },
    });
  const publish = async () => {
    const res = await admin("/api/admin/publish", { method: "POST" });
    expect([200, 201]).toContain(res.status);
    return (await res.json()) as { status: string; sequence: number; fingerprint: string };
  };

  beforeAll(async () => {
    dir = copyCheckout("portal-e2e-story-");
    portal = await startPortal({ dir });
    browser = await launch();
    context = await newContext(browser);
    page = await context.newPage();
    w = watch(page, portal.url);
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await portal?.stop();
    if (dir) removeCopy(dir);
  });

  it("staff import four customers from a CSV with npm run customers; each contact is told it is the notice contact", async () => {
    const file = join(dir, "customers.csv");
    writeFileSync(
      file,
      [
        "externalId;name;region;contractDate;locale;contactEmail;contactLocale",
        ...CUSTOMERS.map(
          (c) =>
            [c.externalId, c.name, c.region, c.contractDate, c.locale, CONTACTS[c.externalId].email].join(";") +
            `;${CONTACTS[c.externalId].locale}`,
        ),
      ].join("\n"),
    );
    const run = customersCli(dir, portal.url, "import", file);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain("4 created, 0 updated, 0 unchanged, 0 removed");
    for (const c of CUSTOMERS) {
      const registered = await waitForEmail(portal.url, CONTACTS[c.externalId].email);
      expect(registered.text).toContain(c.name);
    }
    // The list shipped with the portal becomes the baseline, which mails nobody.
    expect((await publish()).status).toBe("baseline");
  });

  it("a published change reaches each contact once, with exactly its region's and cohort's rows", async () => {
    await portal.stop();
    addSubProcessor(dir, NEW_ID, "Example Story Desk");
    portal = await startPortal({ dir, port: portal.port });
    const published = await publish();
    expect(published.status).toBe("published");
    publication = published;

    const { content } = loadContent(dir, today);
    if (!content) throw new Error("the edited content does not load");
    const vendor = content.vendor;
    const expected = new Map<CustomerId, Map<string, string[]>>();
    for (const c of CUSTOMERS) {
      const locale = contactLocale(c);
      const audience = { region: c.region, cohort: customerCohort(c, vendor.cohorts) };
      const email = await waitForEmail(
        portal.url,
        CONTACTS[c.externalId].email,
        (e) => emailLinks(e).some((l) => l.includes(`/subscription/object/${published.sequence}?`)),
        90_000,
      );
      notices.set(c.externalId, email);
      const rows = rowsOfContent(content, audience, locale);
      expected.set(c.externalId, rows);
      // The change itself is in every audience's list, so every customer is concerned.
      expect([...rows.keys()]).toContain("Example Story Desk");
      expect(
        rowsOfEmail(email.text, locale),
        `${c.externalId}'s notice (${audience.region}/${audience.cohort})`,
      ).toEqual(rows);
      // In the contact's language: the heading of that language's catalogue.
      expect(email.text).toContain(t(locale).notice.annexHeading);
    }
    // The two UK customers differ only by contract date, and their lists differ: the legacy cohort keeps its set-up.
    expect(expected.get("UK-OLD")).not.toEqual(expected.get("UK-NEW"));
    expect(notices.get("UK-OLD")?.text).not.toBe(notices.get("UK-NEW")?.text);
    // Exactly once: publishing again sends nothing, and each contact has its registration and one notice.
    expect((await publish()).status).toBe("unchanged");
    for (const c of CUSTOMERS) expect(await outbox(portal.url, { to: CONTACTS[c.externalId].email })).toHaveLength(2);
  });

  it("the provider's email.delivered webhooks record each notice's receipt", async () => {
    // The development signing secret `npm start` put in .dev.vars (README "Configuration").
    const secret = /^RESEND_WEBHOOK_SECRET=(.+)$/m.exec(readFileSync(join(dir, ".dev.vars"), "utf8"))?.[1];
    expect(secret).toMatch(/^whsec_/);
    for (const [customer, email] of notices) {
      const payload = JSON.stringify({
        type: "email.delivered",
        created_at: email.createdAt,
        // With the tags the notice was sent with, as Resend sends them back (the dev outbox keeps them).
        data: { email_id: String(email.id), to: [email.to], tags: email.tags },
      });
      const res = await fetch(
        `${portal.url}/api/webhooks/resend`,
        signedWebhook(payload, secret ?? "", { id: `msg_story_${customer}` }),
      );
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ status: "processed", matched: true });
    }
  });

  it("one contact objects from its notice in the browser, naming the change, and verifies the signed receipt", async () => {
    const notice = notices.get(OBJECTOR) as OutboxEmail;
    const contact = CONTACTS[OBJECTOR].email;
    const locale = contactLocale(CUSTOMERS.find((c) => c.externalId === OBJECTOR) ?? CUSTOMERS[0]);
    await page.setContent(notice.html);
    const link = page.locator('a[href*="/subscription/object/"]').first();
    await Promise.all([page.waitForEvent("load"), link.click()]);
    await expectPageBasics(page, locale);
    const change = page.locator(`input[type="checkbox"][name="changes"][value="${CHANGE_ID}"]`);
    expect(await change.count()).toBe(1);
    await change.check();
    await page.locator('textarea[name="reason"]').fill("Our security review of this helpdesk is not done yet.");
    await Promise.all([page.waitForEvent("load"), page.locator('form button[type="submit"]').click()]);
    expect(new URL(page.url()).pathname).toBe(`/${locale}/subscription/objected`);
    expectClean(w);

    const receipt = await waitForEmail(portal.url, contact, (e) => e.id > notice.id);
    const jws = /\b(ey[\w-]+\.[\w-]+\.[\w-]+)\b/.exec(receipt.text)?.[1] ?? "";
    expect(jws).not.toBe("");
    const jwks = (await (await fetch(`${portal.url}/.well-known/jwks.json`)).json()) as JSONWebKeySet;
    const { payload, protectedHeader } = await compactVerify(jws, createLocalJWKSet(jwks), { algorithms: ["EdDSA"] });
    expect(jwks.keys.map((k) => k.kid)).toContain(protectedHeader.kid);
    const claims = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
    expect(claims).toMatchObject({
      fingerprint: publication.fingerprint,
      customer: OBJECTOR,
      changes: [CHANGE_ID],
      onTime: true,
    });
    expect(String(claims.publication)).toBe(String(publication.sequence));
    // A tampered receipt does not verify.
    const [header, , signature] = jws.split(".");
    const forged = Buffer.from(JSON.stringify({ ...claims, onTime: false })).toString("base64url");
    await expect(compactVerify(`${header}.${forged}.${signature}`, createLocalJWKSet(jwks))).rejects.toThrow();

    const list = (await (await admin(`/api/admin/objections?customer=${OBJECTOR}`)).json()) as {
      objections: { id: string; state: string }[];
    };
    expect(list.objections).toHaveLength(1);
    expect(list.objections[0]?.state).toBe("received");
    objectionId = list.objections[0]?.id ?? "";
  });

  it("staff propose an alternative, then resolve it as accepted; each step is mailed to the customer's contact", async () => {
    const contact = CONTACTS[OBJECTOR].email;
    const steps = [
      { state: "alternative-proposed", note: "We can keep your support tickets in the present helpdesk instead." },
      {
        state: "resolved",
        outcome: "alternative-accepted",
        note: "Agreed on the call: your tickets stay where they are.",
      },
    ];
    for (const step of steps) {
      const before = (await outbox(portal.url, { to: contact })).length;
      const res = await admin(`/api/admin/objections/${objectionId}/events`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ ...step, actor: "Story Staff" }),
      });
      expect(res.status, await res.clone().text()).toBe(201);
      const mailed = await waitForEmail(portal.url, contact, (e) => e.text.includes(step.note));
      expect((await outbox(portal.url, { to: contact })).length).toBe(before + 1);
      expect(mailed.subject.length).toBeGreaterThan(0);
    }
    const detail = (await (await admin(`/api/admin/objections/${objectionId}`)).json()) as Record<string, unknown>;
    expect(detail).toMatchObject({ state: "resolved", outcome: "alternative-accepted" });
  });

  it("the evidence, with the clock moved past the deadline, deems the three silent customers' consent and not the objector's", async () => {
    const path = `/api/admin/publications/${publication.sequence}/evidence`;
    const now = (await (await admin(path)).json()) as PublicationEvidence;
    expect(now.totals).toMatchObject({ customers: 4, concerned: 4, notified: 4, delivered: 4, objected: 1, deemed: 0 });
    const deadlines = now.customers.map((c) => c.honouredDeadline ?? "");
    expect(deadlines.every((d) => d > today)).toBe(true);

    // Noon (UTC) two days after the latest deadline: past it on the Copenhagen clock too.
    const asOf = `${addDays([...deadlines].sort().at(-1) ?? today, 2)}T12:00:00Z`;
    const res = await admin(`${path}?asOf=${asOf}`);
    expect(res.status).toBe(200);
    const later = (await res.json()) as PublicationEvidence;
    expect(Date.parse(later.asOf)).toBe(Date.parse(asOf));
    expect(later.totals).toMatchObject({ deemed: 3, objected: 1, notNotified: 0 });
    for (const c of later.customers) {
      if (c.customer === OBJECTOR) {
        expect(c.consentDeemedOn).toBeUndefined();
        expect(c.objections).toEqual([
          expect.objectContaining({ id: objectionId, late: false, state: "resolved", outcome: "alternative-accepted" }),
        ]);
      } else {
        expect(c, c.customer).toMatchObject({ status: "notified", objections: [] });
        expect(c.consentDeemedOn).toBe(addDays(c.honouredDeadline ?? "", 1));
      }
    }
    const printable = await (await admin(`${path}.html?asOf=${asOf}`)).text();
    for (const c of CUSTOMERS) expect(printable).toContain(c.externalId);
    const bad = await admin(`${path}?asOf=${asOf.slice(0, 10)}`);
    expect(bad.status).toBe(422);
    expect(bad.headers.get("content-type")).toContain("application/problem+json");
  });
});
