/**
 * STAND-IN for the SSRF guard `checkWebhookUrl` of domain/webhook-url.ts (registration, README "Webhooks"), with the
 * same signature, so the delivery path checks every URL again at every send before that module is merged. At merge
 * this file goes and worker/webhooks/deliver.ts imports the real guard.
 *
 * Allowed: `https://` with a public host name. Refused: other schemes, credentials, IP literals, `localhost`, and
 * `.internal`/`.local`/`.localhost` names. WEBHOOK_ALLOW_LOCAL_HTTP=1 (tests, `npm start`) also allows
 * `http://127.0.0.1:<port>`, and nothing else private.
 */
export type WebhookUrlCheck = { ok: true; url: URL } | { ok: false; rule: string; detail: string };

const PRIVATE_SUFFIXES = [".internal", ".local", ".localhost"];

export function checkWebhookUrl(raw: string, options: { allowLocalHttp: boolean }): WebhookUrlCheck {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, rule: "url", detail: "not an absolute URL" };
  }
  if (options.allowLocalHttp && url.protocol === "http:" && url.hostname === "127.0.0.1" && url.port !== "") {
    return { ok: true, url };
  }
  if (url.protocol !== "https:") return { ok: false, rule: "https", detail: "only https:// URLs are allowed" };
  if (url.username || url.password) return { ok: false, rule: "credentials", detail: "no user or password in the URL" };
  const host = url.hostname.toLowerCase();
  if (/^\[.*\]$/.test(host) || /^\d+(\.\d+){3}$/.test(host) || /^\d+$/.test(host)) {
    return { ok: false, rule: "ip-literal", detail: "an IP address is not allowed, use a public host name" };
  }
  if (host === "localhost" || !host.includes(".") || PRIVATE_SUFFIXES.some((s) => host.endsWith(s))) {
    return { ok: false, rule: "private-host", detail: `${host} is not a public host name` };
  }
  return { ok: true, url };
}
