/**
 * Change notices end to end (docs/architecture.md "Notices"): three subscribers sign up and confirm through the real API; the first
 * publish records a baseline and mails nobody; a new sub-processor is published and each subscriber gets exactly one
 * notice in their language with their region's full Annex C; publishing again sends nothing. Then the ledger, the
 * public hash chain and an objection from the notice's own link.
 */
import { env } from "cloudflare:workers";
import ICAL from "ical.js";
import { beforeAll, describe, expect, it } from "vitest";
import { PublicationsSchema } from "../../domain/schema/documents.ts";
import { resendAccount } from "../../testing/resend-control.ts";
import { call, json, outbox, resetTables, signUpAndConfirm } from "./helpers.ts";
import { assetsServing, capturingQueue, documents, drain, resetNoticeTables } from "./notices-helpers.ts";

const { base, changed } = await documents();
const fake = resendAccount(env.RESEND_BASE_URL, "re_notices_e2e");
const { queue, sent } = capturingQueue();
const sendVia = { EMAIL_TRANSPORT: "resend", RESEND_API_KEY: fake.apiKey, RESEND_MAX_RPS: "50" } as Partial<Env>;
const admin = { Authorization: `Bearer ${env.ADMIN_TOKEN}` };

function publishWith(doc: typeof base) {
  return call(
    "/api/admin/publish",
    { method: "POST", headers: admin },
    { ASSETS: assetsServing(doc), NOTICE_QUEUE: queue },
  );
}

const DA = "kunde@eksempel.dk";
const EN = "dpo@customer.example";
const UK = "privacy@uk-customer.example";

beforeAll(async () => {
  await resetTables();
  await resetNoticeTables();
  await fake.reset();
  await signUpAndConfirm(DA, { locale: "da" });
  await signUpAndConfirm(EN, { locale: "en" });
  await signUpAndConfirm(UK, { locale: "en", regions: ["uk"] });
});

describe("publishing change notices", () => {
  it("refuses publish without the admin token", async () => {
    const res = await call("/api/admin/publish", { method: "POST", headers: { Authorization: "Bearer wrong" } });
    expect(res.status).toBe(401);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
  });

  it("records the first publication after a fresh deploy as a baseline and mails nobody", async () => {
    const res = await publishWith(base);
    expect(res.status).toBe(201);
    const body = (await res.json()) as { status: string; sequence: number; recipients: number };
    expect(body).toMatchObject({ status: "baseline", sequence: 1, recipients: 0 });
    expect(sent).toHaveLength(0);
  });

  it("publishing the same Annex C again does nothing and says so", async () => {
    const res = await publishWith(base);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; detail: string };
    expect(body.status).toBe("unchanged");
    expect(body.detail).toContain(base.fingerprint);
    expect(sent).toHaveLength(0);
  });

  it("a new sub-processor reaches each subscriber exactly once, in their language, with their region's Annex C", async () => {
    const res = await publishWith(changed);
    expect(res.status).toBe(201);
    const body = (await res.json()) as { status: string; sequence: number; recipients: number; announced: string[] };
    expect(body).toMatchObject({ status: "published", sequence: 2, recipients: 3 });
    expect(body.announced).toEqual(["2027-01-04-nordic-support-desk-added"]);
    expect(sent).toHaveLength(1);

    await drain(sent, sendVia);
    const { delivered } = await fake.state();
    expect(delivered.map((d) => d.to[0]).sort()).toEqual([DA, EN, UK].sort());

    const to = (address: string) => {
      const mail = delivered.find((d) => d.to[0] === address);
      if (!mail?.text || !mail.html) throw new Error(`no notice for ${address}`);
      return { ...mail, text: mail.text, html: mail.html };
    };
    const da = to(DA);
    expect(da.subject).toBe("Ændring af MOCH A/S' underdatabehandlere fra 4. januar 2027");
    expect(da.text).toContain("Nordic Support Desk ApS tilføjes som underdatabehandler.");
    expect(da.html).toContain('<html lang="da">');

    const uk = to(UK);
    expect(uk.subject).toBe("Change to MOCH A/S's sub-processors from 4 January 2027");
    expect(uk.text).toContain("This notice covers customers in: United Kingdom.");
    expect(uk.text).toContain("London, United Kingdom");
    expect(uk.text).not.toMatch(/^ {3}- Canada/m);
    expect(to(EN).text).toMatch(/^ {3}- Canada/m);
    for (const mail of [da, uk, to(EN)]) {
      expect(mail.text).toContain(changed.fingerprint);
      // The permanent JSON of the version the notice announces, never the moving /annex-c.json.
      expect(mail.text).toContain("https://portal.example/annex-c/2027-01-04.json");
      expect(mail.text).not.toContain("https://portal.example/annex-c.json");
      expect(mail.text).toMatch(/https:\/\/portal\.example\/api\/notices\/2\/deadline\.ics\?token=/);
      expect(mail.headers?.["List-Unsubscribe"]).toMatch(
        /^<https:\/\/portal\.example\/api\/subscriptions\/unsubscribe\?token=/,
      );
      expect(mail.headers?.["List-Unsubscribe-Post"]).toBe("List-Unsubscribe=One-Click");
    }
  });

  it("publishing again sends nothing more", async () => {
    const before = sent.length;
    const res = await publishWith(changed);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { status: string }).status).toBe("unchanged");
    expect(sent.length).toBe(before);
    await drain(sent, sendVia); // even a re-delivery of the old messages sends nobody twice
    expect((await fake.state()).delivered).toHaveLength(3);
  });

  it("GET /api/publications is the public hash chain, with counts and no addresses", async () => {
    const res = await call("/api/publications");
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain("@");
    // The document its JSON Schema (/schema/publications-1.json, generated from this zod schema) describes.
    const { $schema, publications } = PublicationsSchema.parse(JSON.parse(text));
    expect($schema).toBe("https://portal.example/schema/publications-1.json");
    expect(publications.map((p) => [p.id, p.fingerprint, p.previousFingerprint, p.recipientCount])).toEqual([
      [2, changed.fingerprint, base.fingerprint, 3],
      [1, base.fingerprint, null, 0],
    ]);
  });

  it("the ledger exports who was sent what, when and with which provider message id", async () => {
    expect((await call("/api/admin/publications/2/deliveries.csv")).status).toBe(401);
    const res = await call("/api/admin/publications/2/deliveries.csv", { headers: admin });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/csv");
    const lines = (await res.text()).trim().split("\n");
    expect(lines[0]).toContain("message_id");
    expect(lines).toHaveLength(4);
    const { delivered } = await fake.state();
    for (const d of delivered) {
      expect(lines.some((l) => l.includes(d.id) && l.includes(d.to[0] ?? "?") && l.includes(",sent,"))).toBe(true);
    }
    const ledger = await call("/api/admin/publications", { headers: admin });
    const body = (await ledger.json()) as { publications: { id: number; deliveries: Record<string, number> }[] };
    expect(body.publications.find((p) => p.id === 2)?.deliveries).toEqual({ sent: 3 });
  });
});

describe("objections from the notice", () => {
  async function noticeToken(address: string): Promise<string> {
    const mail = (await fake.state()).delivered.find((d) => d.to[0] === address);
    const match = /\/subscription\/object\/2\?token=([A-Za-z0-9_-]+)/.exec(mail?.text ?? "");
    if (!match?.[1]) throw new Error("no objection link in the notice");
    return match[1];
  }

  it("the notice's object link opens a form that works without JavaScript", async () => {
    const token = await noticeToken(UK);
    const res = await call(`/en/subscription/object/2?token=${token}`);
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).toContain('<form method="post" action="/api/notices/2/objections">');
    expect(page).toContain(`name="token" value="${token}"`);
    expect(page).not.toContain("<script");
  });

  it("an objection within the window is accepted with 201; receipt to the subscriber, alert to the vendor", async () => {
    const token = await noticeToken(UK);
    const res = await call(
      "/api/notices/2/objections",
      json({ organisation: "UK Customer Ltd", reason: "We do not agree." }, { Authorization: `Bearer ${token}` }),
    );
    expect(res.status).toBe(201);
    const body = (await res.json()) as { deadline: string; notice: number };
    expect(body.notice).toBe(2);
    expect(body.deadline).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const [receipt] = await outbox(UK);
    expect(receipt?.subject).toBe("Receipt: MOCH A/S has received your objection");
    const [alert] = await outbox(env.VENDOR_ALERT_EMAIL);
    expect(alert?.text).toContain("UK Customer Ltd");
    expect(alert?.text).toContain(UK);
  });

  it("the form posts form-encoded with the token as a field and gets a 303 to a result page", async () => {
    const token = await noticeToken(DA);
    const res = await call("/api/notices/2/objections", {
      method: "POST",
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        Accept: "text/html",
        Origin: "https://portal.example",
      },
      body: new URLSearchParams({ token, locale: "da", organisation: "Kunde A/S", reason: "Nej tak." }).toString(),
      redirect: "manual",
    });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/da/subscription/objected?notice=2");
    const result = await call("/da/subscription/objected?notice=2");
    expect(result.status).toBe(200);
    expect(await result.text()).toContain("Indsigelsen er modtaget");
  });

  it("an objection after the subscriber's deadline is refused with 409 naming the deadline", async () => {
    const token = await noticeToken(EN);
    // The delivery happened long ago: move it back to January 2026.
    await env.DB.prepare(
      "UPDATE deliveries SET claimed_at = '2026-01-05T09:00:00.000Z', sent_at = '2026-01-05T09:00:01.000Z', deadline = '2026-01-19' WHERE email = ?1",
    )
      .bind(EN)
      .run();
    const res = await call(
      "/api/notices/2/objections",
      json({ organisation: "Customer", reason: "Too late?" }, { Authorization: `Bearer ${token}` }),
    );
    expect(res.status).toBe(409);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    const problem = (await res.json()) as { detail: string };
    expect(problem.detail).toContain("2026-01-19");
  });

  it("the notice links the subscriber's own deadline as an all-day iCalendar event", async () => {
    const mail = (await fake.state()).delivered.find((d) => d.to[0] === UK);
    const link = /https:\/\/portal\.example(\/api\/notices\/2\/deadline\.ics\?token=[A-Za-z0-9_-]+)/.exec(
      mail?.text ?? "",
    );
    if (!link?.[1]) throw new Error("no deadline.ics link in the notice");
    const res = await call(link[1]);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/calendar; charset=utf-8");
    const calendar = new ICAL.Component(ICAL.parse(await res.text()));
    expect(calendar.getFirstPropertyValue("x-wr-timezone")).toBe("Europe/Copenhagen");
    const events = calendar.getAllSubcomponents("vevent").map((v) => new ICAL.Event(v));
    expect(events).toHaveLength(1);
    const [event] = events;
    // The deadline stored with the delivery (DPA 5.3, counted from its delivery), as a whole day.
    const row = await env.DB.prepare("SELECT deadline FROM deliveries WHERE email = ?1")
      .bind(UK)
      .first<{ deadline: string }>();
    expect(event?.startDate.isDate).toBe(true);
    expect(event?.startDate.toString()).toBe(row?.deadline);
    expect(event?.summary).toBe("Last day to object to MOCH A/S's notice no. 2");
    // Fetched twice, the same event (same UID), so a calendar updates it rather than adding another.
    const again = new ICAL.Component(ICAL.parse(await (await call(link[1])).text()));
    expect(again.getFirstSubcomponent("vevent")?.getFirstPropertyValue("uid")).toBe(event?.uid);
  });

  it("deadline.ics needs the subscriber's token and a notice sent to them", async () => {
    expect((await call("/api/notices/2/deadline.ics?token=wrong-token-wrong-token-wrong")).status).toBe(401);
    const token = await noticeToken(UK);
    const unknown = await call(`/api/notices/99/deadline.ics?token=${token}`);
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("content-type")).toContain("application/problem+json");
  });

  it("refuses an objection without a valid manage token", async () => {
    const res = await call("/api/notices/2/objections", json({ organisation: "X", reason: "Y" }));
    expect(res.status).toBe(401);
  });
});
