import { describe, expect, it } from "vitest";
import { checkWebhookUrl, MAX_WEBHOOK_URL_LENGTH, type WebhookUrlRule } from "../../domain/webhook-url.ts";
import { REFUSED_WEBHOOK_URLS } from "./webhook-url-cases.ts";

const production = { allowLocalHttp: false };
const development = { allowLocalHttp: true };

function ruleOf(raw: string, options = production): WebhookUrlRule | "ok" {
  const check = checkWebhookUrl(raw, options);
  return check.ok ? "ok" : check.rule;
}

describe("webhook URL guard (SSRF): refused in production, each with the rule that applied", () => {
  const named = REFUSED_WEBHOOK_URLS.map(([raw, rule]) => [
    raw.length > 80 ? `${raw.slice(0, 40)}… (${raw.length} characters)` : raw,
    rule,
    raw,
  ]);
  it.each(named)("%s is refused (%s)", (_, rule, raw) => {
    const check = checkWebhookUrl(raw, production);
    expect(check.ok).toBe(false);
    if (check.ok) return;
    expect(check.rule).toBe(rule);
    // The detail says why, in a sentence, not only the rule's name.
    expect(check.detail.length).toBeGreaterThan(20);
  });

  it("refuses a 10 KB URL by its length, before parsing it", () => {
    const check = checkWebhookUrl(`https://hooks.example.com/?q=${"x".repeat(10 * 1024)}`, production);
    expect(check).toMatchObject({ ok: false, rule: "too-long" });
    if (!check.ok) expect(check.detail).toMatch(/2048/);
  });

  it("accepts public https host names, normalised by the URL parser", () => {
    for (const raw of [
      "https://hooks.example.com/subprocessors",
      "https://HOOKS.Example.COM:8443/a?b=c",
      "https://xn--bcher-kva.example.com/",
      "https://bücher.example.com/in",
      "https://hooks.example.com./trailing-dot",
      `https://hooks.example.com/${"a".repeat(MAX_WEBHOOK_URL_LENGTH - 30)}`,
      // Names that merely contain a reserved word are public.
      "https://localhost.example.com/",
      "https://internal.example.com/",
      "https://local.example.com/",
    ]) {
      expect(ruleOf(raw), raw).toBe("ok");
    }
    const check = checkWebhookUrl("https://HOOKS.Example.COM/x", production);
    expect(check.ok && check.url.href).toBe("https://hooks.example.com/x");
  });

  it("the development switch admits http://127.0.0.1:<port> and nothing else private", () => {
    expect(ruleOf("http://127.0.0.1:8788/r/a", development)).toBe("ok");
    expect(ruleOf("http://127.0.0.1:8788/r/a", production)).toBe("ip-literal");
    // Without an explicit port, over https, other loopback spellings or addresses, names: still refused.
    expect(ruleOf("http://127.0.0.1/r/a", development)).toBe("ip-literal");
    expect(ruleOf("http://127.0.0.1:80/r/a", development)).toBe("ip-literal");
    expect(ruleOf("https://127.0.0.1:8788/r/a", development)).toBe("ip-literal");
    expect(ruleOf("http://127.0.0.2:8788/", development)).toBe("ip-literal");
    expect(ruleOf("http://10.0.0.1:8788/", development)).toBe("ip-literal");
    expect(ruleOf("http://[::1]:8788/", development)).toBe("ip-literal");
    expect(ruleOf("http://localhost:8788/", development)).toBe("localhost");
    expect(ruleOf("http://user:pw@127.0.0.1:8788/", development)).toBe("userinfo");
    expect(ruleOf("http://hooks.example.com:8788/", development)).toBe("https-only");
    // Spellings that normalise to 127.0.0.1 are 127.0.0.1, and admitted on purpose only in development.
    expect(ruleOf("http://0x7f.1:8788/", development)).toBe("ok");
  });
});
