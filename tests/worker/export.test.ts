/**
 * "Download my data" (GDPR Art. 15): GET /api/subscriptions/me returns everything stored about the person — the
 * subscription, its tokens, every notice delivered to it and every objection it made — and nothing of anyone else.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { addDelivery, dayFromNow, publishNotice, REMOVED, resetCustomerTables } from "./customer-fixtures.ts";
import { call, json, outbox, resetTables, subscribe, tokenFrom } from "./helpers.ts";

beforeEach(async () => {
  await resetTables();
  await resetCustomerTables();
  await publishNotice();
});

async function confirmedSubscriber(email: string): Promise<{ id: string; manageToken: string }> {
  expect((await subscribe({ email, locale: "en" })).status).toBe(202);
  const [confirmation] = await outbox(email);
  if (!confirmation) throw new Error("no confirmation email");
  await call("/api/subscriptions/confirm", json({ token: tokenFrom(confirmation, "/subscription/confirm") }));
  const [welcome] = await outbox(email);
  if (!welcome) throw new Error("no welcome email");
  const id = await env.DB.prepare("SELECT id FROM subscribers WHERE email = ?1").bind(email).first<string>("id");
  return { id: id ?? "", manageToken: tokenFrom(welcome, "/subscription/manage") };
}

describe("GET /api/subscriptions/me", () => {
  it("holds the subscription, its tokens, every delivery and every objection of the person, and no one else's", async () => {
    const me = await confirmedSubscriber("me@example.org");
    const other = await confirmedSubscriber("other@example.org");
    await addDelivery({ recipientId: me.id, customerId: null, email: "me@example.org", deadline: dayFromNow(5) });
    await addDelivery({ recipientId: other.id, customerId: null, email: "other@example.org", deadline: dayFromNow(5) });
    const objected = await call(
      "/api/notices/2/objections",
      json(
        { organisation: "Me ApS", reason: "Not this one.", changes: [REMOVED.id] },
        {
          Authorization: `Bearer ${me.manageToken}`,
        },
      ),
    );
    expect(objected.status).toBe(201);

    const res = await call("/api/subscriptions/me", { headers: { Authorization: `Bearer ${me.manageToken}` } });
    expect(res.status).toBe(200);
    const data = (await res.json()) as {
      subscription: { email: string; status: string };
      tokens: { kind: string }[];
      deliveries: Record<string, unknown>[];
      objections: Record<string, unknown>[];
    };
    expect(data.subscription).toMatchObject({ email: "me@example.org", status: "confirmed" });
    // The welcome email's manage token, and the one every notice carries (registered at confirmation).
    expect(data.tokens.map((t) => t.kind).sort()).toEqual(["confirm", "manage", "manage"]);
    expect(data.deliveries).toEqual([
      expect.objectContaining({
        publication: 2,
        email: "me@example.org",
        status: "sent",
        sentAt: "2026-11-02T09:00:00.000Z",
        messageId: "msg-me@example.org",
        statedDeadline: dayFromNow(5),
      }),
    ]);
    expect(data.objections).toEqual([
      expect.objectContaining({
        publicationId: 2,
        organisation: "Me ApS",
        reason: "Not this one.",
        changes: [REMOVED.id],
        email: "me@example.org",
      }),
    ]);
    expect(JSON.stringify(data)).not.toContain("other@example.org");
    expect(JSON.stringify(data)).not.toContain(other.id);
  });
});
