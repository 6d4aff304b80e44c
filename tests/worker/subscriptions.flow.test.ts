/**
 * The subscriber's whole journey, end to end through the worker with the outbox transport:
 * sign up → confirmation email → confirm page (GET changes nothing) → confirm → welcome email →
 * manage (read, change, export) → one-click unsubscribe → erase.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { browserForm, call, json, LOCAL_DEV, ORIGIN, outbox, resetTables, subscribe, tokenFrom } from "./helpers.ts";

beforeEach(resetTables);

async function statusOf(email: string): Promise<string | undefined> {
  const row = await env.DB.prepare("SELECT status FROM subscribers WHERE email = ?1")
    .bind(email)
    .first<{ status: string }>();
  return row?.status;
}

async function signUpAndConfirm(email: string, body: Record<string, unknown> = {}) {
  expect((await subscribe({ email, ...body })).status).toBe(202);
  const [confirmation] = await outbox(email);
  if (!confirmation) throw new Error("no confirmation email");
  const token = tokenFrom(confirmation, "/subscription/confirm");
  const res = await call("/api/subscriptions/confirm", json({ token }));
  expect(res.status).toBe(200);
  const [welcome] = await outbox(email);
  if (!welcome) throw new Error("no welcome email");
  return { confirmToken: token, manageToken: tokenFrom(welcome, "/subscription/manage"), welcome };
}

describe("double opt-in sign-up", () => {
  it("answers 202, stores a pending subscriber and emails a confirmation link in the chosen language", async () => {
    const res = await subscribe({ email: "Reader@Example.org", locale: "en", topics: ["dpa"], regions: ["uk"] });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ status: "accepted", detail: expect.any(String) });
    expect(await statusOf("reader@example.org")).toBe("pending");

    const mails = await outbox("reader@example.org");
    expect(mails).toHaveLength(1);
    const mail = mails[0];
    if (!mail) throw new Error("no email");
    expect(mail.subject).toMatch(/Confirm your subscription/);
    expect(mail.html).toContain('lang="en"');
    expect(mail.text).toContain(`${ORIGIN}/en/subscription/confirm?token=`);
    expect(mail.headers["List-Unsubscribe"]).toMatch(
      /^<https:\/\/portal\.example\/api\/subscriptions\/unsubscribe\?token=[\w-]{43}&locale=en>$/,
    );
    expect(mail.headers["List-Unsubscribe-Post"]).toBe("List-Unsubscribe=One-Click");
  });

  it("sends Danish by default and stores only the hash of the token", async () => {
    await subscribe({ email: "dansk@example.dk" });
    const [mail] = await outbox("dansk@example.dk");
    if (!mail) throw new Error("no email");
    expect(mail.subject).toMatch(/Bekræft/);
    expect(mail.html).toContain('lang="da"');
    const token = tokenFrom(mail, "/subscription/confirm");
    const stored = await env.DB.prepare("SELECT token_hash FROM subscription_tokens").all<{ token_hash: string }>();
    expect(stored.results).toHaveLength(1);
    expect(stored.results[0]?.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(stored.results)).not.toContain(token);
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token));
    const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
    expect(stored.results[0]?.token_hash).toBe(hex);
  });

  it("gives a known address exactly the same answer as an unknown one (no enumeration)", async () => {
    const { manageToken } = await signUpAndConfirm("known@example.com");
    expect(manageToken).toBeTruthy();
    const known = await subscribe({ email: "known@example.com" });
    const unknown = await subscribe({ email: "unknown@example.com" });
    expect(known.status).toBe(unknown.status);
    expect(await known.text()).toBe(await unknown.text());
    expect([...known.headers.keys()].sort()).toEqual([...unknown.headers.keys()].sort());
  });

  it("normalises addresses (case, whitespace, IDN) so one mailbox is one subscriber", async () => {
    await subscribe({ email: "  Jens@Bücher.Example " });
    await subscribe({ email: "jens@xn--bcher-kva.example" });
    const rows = await env.DB.prepare("SELECT email FROM subscribers").all<{ email: string }>();
    expect(rows.results).toEqual([{ email: "jens@xn--bcher-kva.example" }]);
  });

  it("the confirm link's page only shows a button: fetching it (as a mail scanner would) confirms nobody", async () => {
    await subscribe({ email: "scanned@example.com" });
    const [mail] = await outbox("scanned@example.com");
    if (!mail) throw new Error("no email");
    const token = tokenFrom(mail, "/subscription/confirm");
    const page = await call(`/da/subscription/confirm?token=${token}`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<form method="post" action="/api/subscriptions/confirm">');
    expect(html).toContain(`value="${token}"`);
    expect(await call(`/da/subscription/confirm?token=${token}`, { method: "HEAD" })).toBeTruthy();
    expect(await statusOf("scanned@example.com")).toBe("pending");
  });

  it("confirming sends one welcome email with a manage link; confirming again is still a success", async () => {
    const { confirmToken, welcome } = await signUpAndConfirm("twice@example.com", { locale: "en" });
    expect(await statusOf("twice@example.com")).toBe("confirmed");
    expect(welcome.subject).toMatch(/You are now subscribed/);
    expect(welcome.text).toContain(`${ORIGIN}/en/subscription/manage?token=`);
    expect(welcome.headers["List-Unsubscribe-Post"]).toBe("List-Unsubscribe=One-Click");

    const again = await call("/api/subscriptions/confirm", json({ token: confirmToken }));
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ status: "confirmed", alreadyConfirmed: true });
    expect(await outbox("twice@example.com")).toHaveLength(2); // confirmation + one welcome
  });

  it("the confirm page's form post confirms and redirects (303) to the confirmed page in its language", async () => {
    await subscribe({ email: "form@example.com", locale: "en" });
    const [mail] = await outbox("form@example.com");
    if (!mail) throw new Error("no email");
    const token = tokenFrom(mail, "/subscription/confirm");
    const res = await call(
      "/api/subscriptions/confirm",
      browserForm([
        ["token", token],
        ["locale", "en"],
      ]),
    );
    expect(res.status).toBe(303);
    expect(res.headers.get("Location")).toBe("/en/subscription/confirmed");
    expect(await statusOf("form@example.com")).toBe("confirmed");
    const page = await call("/en/subscription/confirmed");
    expect(await page.text()).toContain("<h1>Your subscription is confirmed</h1>");
  });

  it("refuses a confirmation link older than 48 hours with 410 and a clear detail", async () => {
    await subscribe({ email: "late@example.com" });
    const [mail] = await outbox("late@example.com");
    if (!mail) throw new Error("no email");
    await env.DB.prepare("UPDATE subscription_tokens SET expires_at = ?1").bind("2000-01-01T00:00:00.000Z").run();
    const res = await call("/api/subscriptions/confirm", json({ token: tokenFrom(mail, "/subscription/confirm") }));
    expect(res.status).toBe(410);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    expect(((await res.json()) as { detail: string }).detail).toMatch(/expired.*48 hours/);
    expect(await statusOf("late@example.com")).toBe("pending");
  });

  it("the confirm page says so when its link has expired (410) or was already used (confirmed page)", async () => {
    const { confirmToken } = await signUpAndConfirm("used@example.com", { locale: "en" });
    const used = await call(`/en/subscription/confirm?token=${confirmToken}`);
    expect(used.status).toBe(200);
    expect(await used.text()).toContain("<h1>Your subscription is confirmed</h1>");

    await subscribe({ email: "expired@example.com", locale: "en" });
    const [mail] = await outbox("expired@example.com");
    if (!mail) throw new Error("no email");
    await env.DB.prepare("UPDATE subscription_tokens SET expires_at = ?1 WHERE used_at IS NULL")
      .bind("2000-01-01T00:00:00.000Z")
      .run();
    const expired = await call(`/en/subscription/confirm?token=${tokenFrom(mail, "/subscription/confirm")}`);
    expect(expired.status).toBe(410);
    const html = await expired.text();
    expect(html).toContain("48 hours");
    expect(html).not.toContain("<form");
  });

  it("the site's HTML form (no JavaScript) gets a 303 to the check-your-inbox page in its language", async () => {
    const res = await call(
      "/api/subscriptions",
      browserForm([
        ["email", "browser@example.com"],
        ["locale", "en"],
        ["topics", "subprocessors"],
        ["regions", "de"],
        ["website", ""],
      ]),
    );
    expect(res.status).toBe(303);
    expect(res.headers.get("Location")).toBe("/en/subscribe/check/");
    const row = await env.DB.prepare("SELECT topics, regions, locale FROM subscribers").first();
    expect(row).toEqual({ topics: '["subprocessors"]', regions: '["de"]', locale: "en" });
  });

  it("an invalid HTML form post gets a 303 to the error page in its language", async () => {
    const res = await call(
      "/api/subscriptions",
      browserForm([
        ["email", "not an address"],
        ["locale", "da"],
      ]),
    );
    expect(res.status).toBe(303);
    expect(res.headers.get("Location")).toBe("/da/subscribe/error/?reason=invalid_input");
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM subscribers").first("n")).toBe(0);
  });

  it("the honeypot field: filled in → the same 202, nothing stored, nothing sent", async () => {
    const res = await subscribe({ email: "bot@example.com", website: "http://spam.example" });
    expect(res.status).toBe(202);
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM subscribers").first("n")).toBe(0);
    expect(await outbox()).toHaveLength(0);
  });
});

describe("managing a subscription with the manage token", () => {
  it("reads (GDPR export), changes preferences and shows them on the manage page", async () => {
    const { manageToken } = await signUpAndConfirm("manage@example.com", { locale: "da" });
    const auth = { Authorization: `Bearer ${manageToken}` };

    const read = await call("/api/subscriptions/me", { headers: auth });
    expect(read.status).toBe(200);
    const data = (await read.json()) as { subscription: Record<string, unknown>; tokens: { kind: string }[] };
    expect(data.subscription).toMatchObject({
      email: "manage@example.com",
      status: "confirmed",
      locale: "da",
      topics: ["subprocessors", "dpa"],
      regions: ["uk", "de", "ca", "eea", "ch"],
    });
    // The welcome email's manage token, and the one every notice carries (registered at confirmation).
    expect(data.tokens.map((t) => t.kind).sort()).toEqual(["confirm", "manage", "manage"]);
    expect(JSON.stringify(data)).not.toContain(manageToken);

    const patch = await call("/api/subscriptions/me", {
      method: "PATCH",
      headers: { ...auth, "Content-Type": "application/json" },
      body: JSON.stringify({ locale: "en", topics: ["dpa"], regions: ["ca", "ca"] }),
    });
    expect(patch.status).toBe(200);
    expect(((await patch.json()) as { subscription: unknown }).subscription).toMatchObject({
      locale: "en",
      topics: ["dpa"],
      regions: ["ca"],
    });

    const page = await call(`/en/subscription/manage?token=${manageToken}`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<html lang="en">');
    expect(html).toContain("manage@example.com");
    expect(html).toMatch(/value="dpa" checked/);
    expect(html).not.toMatch(/value="subprocessors" checked/);
    expect(html).toMatch(/value="ca" checked/);
  });

  it("the manage page's forms change preferences (303 back), export as a download, and erase", async () => {
    const { manageToken } = await signUpAndConfirm("forms@example.com");
    const save = await call(
      "/api/subscriptions/me",
      browserForm([
        ["token", manageToken],
        ["_method", "PATCH"],
        ["locale", "en"],
        ["topics", "subprocessors"],
        ["regions", "uk"],
        ["regions", "ch"],
      ]),
    );
    expect(save.status).toBe(303);
    expect(save.headers.get("Location")).toBe(`/en/subscription/manage?token=${manageToken}&saved=1`);
    const row = await env.DB.prepare("SELECT locale, topics, regions FROM subscribers").first();
    expect(row).toEqual({ locale: "en", topics: '["subprocessors"]', regions: '["uk","ch"]' });

    const exported = await call(
      "/api/subscriptions/me",
      browserForm([
        ["token", manageToken],
        ["_method", "GET"],
      ]),
    );
    expect(exported.status).toBe(200);
    expect(exported.headers.get("Content-Disposition")).toMatch(/attachment/);
    expect(((await exported.json()) as { subscription: { email: string } }).subscription.email).toBe(
      "forms@example.com",
    );

    const erased = await call(
      "/api/subscriptions/me",
      browserForm([
        ["token", manageToken],
        ["_method", "DELETE"],
        ["locale", "en"],
        ["confirm", "erase"],
      ]),
    );
    expect(erased.status).toBe(303);
    expect(erased.headers.get("Location")).toBe("/en/subscription/erased");
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM subscribers").first("n")).toBe(0);
  });

  it("'Erase my data' asks for confirmation on a second page, without JavaScript, before erasing anything", async () => {
    const { manageToken } = await signUpAndConfirm("twice@example.com", { locale: "en" });
    const count = () => env.DB.prepare("SELECT COUNT(*) AS n FROM subscribers").first("n");

    // The manage page's button only opens the confirmation page (a GET form: it can change nothing).
    const manage = await (await call(`/en/subscription/manage?token=${manageToken}`)).text();
    expect(manage).toContain('<form method="get" action="/en/subscription/erase">');
    expect(manage).not.toContain('value="DELETE"');

    const confirmPage = await call(`/en/subscription/erase?token=${manageToken}`);
    expect(confirmPage.status).toBe(200);
    const text = await confirmPage.text();
    expect(text).toContain("<title>Erase your data?");
    expect(text).toContain("twice@example.com");
    expect(text).toMatch(/name="_method" value="DELETE"[\s\S]*name="confirm" value="erase"[\s\S]*Yes, erase my data/);
    expect(text).toContain(`href="/en/subscription/manage?token=${manageToken}">No, keep my subscription`);
    expect(await count()).toBe(1);

    // A form that skips the second page (an old manage page) is sent there; nothing is erased.
    const skipped = await call(
      "/api/subscriptions/me",
      browserForm([
        ["token", manageToken],
        ["_method", "DELETE"],
        ["locale", "en"],
      ]),
    );
    expect(skipped.status).toBe(303);
    expect(skipped.headers.get("Location")).toBe(`/en/subscription/erase?token=${manageToken}`);
    // The same without a browser form is a clear 422.
    const scripted = await call("/api/subscriptions/me", json({ token: manageToken, _method: "DELETE" }));
    expect(scripted.status).toBe(422);
    expect(((await scripted.json()) as { errors: { path: string }[] }).errors).toEqual([
      expect.objectContaining({ path: "confirm" }),
    ]);
    expect(await count()).toBe(1);

    // A stale or mistyped link shows the error page, not a form.
    expect((await call(`/da/subscription/erase?token=${"A".repeat(43)}`)).status).toBe(401);
  });

  it("DELETE /me erases the subscriber and every token: the manage link stops working", async () => {
    const { manageToken } = await signUpAndConfirm("erase@example.com");
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM rate_limits WHERE key LIKE 'email:%'").first("n")).toBe(1);
    const auth = { Authorization: `Bearer ${manageToken}` };
    const del = await call("/api/subscriptions/me", { method: "DELETE", headers: auth });
    expect(del.status).toBe(200);
    expect(await del.json()).toEqual({ status: "erased" });
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM subscribers").first("n")).toBe(0);
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM subscription_tokens").first("n")).toBe(0);
    // The per-address counter is keyed by a hash of the address; it goes too.
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM rate_limits WHERE key LIKE 'email:%'").first("n")).toBe(0);
    const after = await call("/api/subscriptions/me", { headers: auth });
    expect(after.status).toBe(401);
    expect(after.headers.get("WWW-Authenticate")).toMatch(/^Bearer/);
  });

  it("signing up again after erasing starts from scratch with new tokens", async () => {
    const first = await signUpAndConfirm("again@example.com");
    await call("/api/subscriptions/me", {
      method: "DELETE",
      headers: { Authorization: `Bearer ${first.manageToken}` },
    });
    const second = await signUpAndConfirm("again@example.com");
    expect(second.manageToken).not.toBe(first.manageToken);
    expect(
      (await call("/api/subscriptions/me", { headers: { Authorization: `Bearer ${second.manageToken}` } })).status,
    ).toBe(200);
  });
});

describe("one-click unsubscribe (RFC 8058)", () => {
  it("POST with exactly List-Unsubscribe=One-Click → 200, no redirect, subscriber unsubscribed", async () => {
    const { welcome } = await signUpAndConfirm("oneclick@example.com");
    const url = /^<(.+)>$/.exec(welcome.headers["List-Unsubscribe"] ?? "")?.[1];
    if (!url) throw new Error("no List-Unsubscribe URL");
    const res = await call(url, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "List-Unsubscribe=One-Click",
      redirect: "manual",
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("Location")).toBeNull();
    expect(await res.json()).toEqual({ status: "unsubscribed" });
    expect(await statusOf("oneclick@example.com")).toBe("unsubscribed");
    // Repeating it is harmless.
    const again = await call(url, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "List-Unsubscribe=One-Click",
    });
    expect(again.status).toBe(200);
  });

  it("accepts the one-click body as multipart/form-data too (RFC 8058 allows either encoding)", async () => {
    const { manageToken } = await signUpAndConfirm("multipart@example.com");
    const body = new FormData();
    body.set("List-Unsubscribe", "One-Click");
    const res = await call(`/api/subscriptions/unsubscribe?token=${manageToken}`, { method: "POST", body });
    expect(res.status).toBe(200);
    expect(await statusOf("multipart@example.com")).toBe("unsubscribed");
  });

  it("the link opened in a browser shows a page whose button unsubscribes (200 page, no redirect)", async () => {
    const { manageToken } = await signUpAndConfirm("page@example.com", { locale: "en" });
    const opened = await call(`/api/subscriptions/unsubscribe?token=${manageToken}&locale=en`, { redirect: "manual" });
    expect(opened.status).toBe(303);
    expect(opened.headers.get("Location")).toBe(`/en/subscription/unsubscribe?token=${manageToken}`);
    const page = await call(`/en/subscription/unsubscribe?token=${manageToken}`);
    const html = await page.text();
    expect(html).toContain(`action="/api/subscriptions/unsubscribe?token=${manageToken}&amp;locale=en"`);
    expect(html).toContain('name="List-Unsubscribe" value="One-Click"');
    expect(await statusOf("page@example.com")).toBe("confirmed");

    const res = await call(
      `/api/subscriptions/unsubscribe?token=${manageToken}&locale=en`,
      browserForm([["List-Unsubscribe", "One-Click"]]),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(await res.text()).toContain("<h1>You are unsubscribed</h1>");
    expect(await statusOf("page@example.com")).toBe("unsubscribed");
  });

  it("the confirmation email's unsubscribe link cancels a pending sign-up", async () => {
    await subscribe({ email: "cancel@example.com" });
    const [mail] = await outbox("cancel@example.com");
    if (!mail) throw new Error("no email");
    const url = /^<(.+)>$/.exec(mail.headers["List-Unsubscribe"] ?? "")?.[1] ?? "";
    const res = await call(url, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "List-Unsubscribe=One-Click",
    });
    expect(res.status).toBe(200);
    expect(await statusOf("cancel@example.com")).toBe("unsubscribed");
  });

  it("an unsubscribed subscriber can re-subscribe from the manage page without a new opt-in", async () => {
    const { manageToken } = await signUpAndConfirm("back@example.com");
    const auth = { Authorization: `Bearer ${manageToken}`, "Content-Type": "application/json" };
    await call("/api/subscriptions/me", {
      method: "PATCH",
      headers: auth,
      body: JSON.stringify({ subscribed: false }),
    });
    expect(await statusOf("back@example.com")).toBe("unsubscribed");
    await call("/api/subscriptions/me", { method: "PATCH", headers: auth, body: JSON.stringify({ subscribed: true }) });
    expect(await statusOf("back@example.com")).toBe("confirmed");
  });

  it("a suppressed address (bounce) gets no confirmation email and cannot re-subscribe itself", async () => {
    const { manageToken } = await signUpAndConfirm("bounced@example.com");
    await env.DB.prepare("UPDATE subscribers SET status = 'suppressed', suppressed_reason = 'bounce'").run();
    await call("/api/dev/outbox", { method: "DELETE" }, LOCAL_DEV);
    expect((await subscribe({ email: "bounced@example.com" })).status).toBe(202);
    expect(await outbox("bounced@example.com")).toHaveLength(0);
    const res = await call("/api/subscriptions/me", {
      method: "PATCH",
      headers: { Authorization: `Bearer ${manageToken}`, "Content-Type": "application/json" },
      body: JSON.stringify({ subscribed: true }),
    });
    expect(res.status).toBe(409);
    expect(await statusOf("bounced@example.com")).toBe("suppressed");
  });
});
