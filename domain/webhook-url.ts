// The SSRF guard for outbound webhooks (README "Webhooks", "Security"): which URLs a subscriber may register as an
// endpoint, and which the worker may send to. It runs at registration and again before every send, so an endpoint
// stored under older rules, or a row edited by hand, is still refused.
//
// The guard judges the URL after the WHATWG URL parser has normalised it (the parser `fetch` uses too), so every
// spelling of an address is judged by what it means: `https://0x7f.1/`, `https://2130706433/` and
// `https://0177.0.0.1/` are all `127.0.0.1`; `[::ffff:127.0.0.1]` is an IPv6 literal; `LOCALHOST.` is `localhost`.
// It needs a public host *name*: IP literals are refused outright, because a name is what the platform resolves and
// connects to, and workerd's fetch cannot reach private networks in production (README "Webhooks": DNS rebinding is
// bounded by the platform). Names that by standard never resolve publicly (RFC 6761, 6762, 8375, 9476) are refused so
// the subscriber hears at once why their endpoint can never work.

/** Longer URLs are refused: browsers, proxies and CDNs commonly stop at about 2,000 characters. */
export const MAX_WEBHOOK_URL_LENGTH = 2048;

/** The rules a URL can break, each named in the refusal so a subscriber (and a test) can tell which applied. */
export type WebhookUrlRule =
  | "too-long"
  | "not-a-url"
  | "https-only"
  | "userinfo"
  | "ip-literal"
  | "localhost"
  | "internal-name"
  | "mdns-local"
  | "localdomain"
  | "home-arpa"
  | "special-use"
  | "single-label";

export interface WebhookUrlOptions {
  /**
   * Development and tests only (WEBHOOK_ALLOW_LOCAL_HTTP=1): admits `http://127.0.0.1:<port>` with an explicit port,
   * so a receiver on the same machine can be registered. Nothing else private becomes allowed.
   */
  allowLocalHttp: boolean;
}

export type WebhookUrlCheck = { ok: true; url: URL } | { ok: false; rule: WebhookUrlRule; detail: string };

function refuse(rule: WebhookUrlRule, detail: string): WebhookUrlCheck {
  return { ok: false, rule, detail };
}

/** Suffixes of special-use names (RFC 6761 §6.2–6.5, RFC 9476 `.alt`, RFC 7686 `.onion`): never public hosts. */
const SPECIAL_USE_SUFFIXES = ["test", "invalid", "example", "alt", "onion"] as const;

/** True for a dotted-quad IPv4 address, the only form the URL parser leaves an IPv4 host in. */
function isIpv4(host: string): boolean {
  return /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function endsWithLabel(host: string, suffix: string): boolean {
  return host === suffix || host.endsWith(`.${suffix}`);
}

/** The host rules, on a normalised host name without its trailing root dot. */
function hostRefusal(host: string): WebhookUrlCheck | null {
  if (host.startsWith("[") || isIpv4(host)) {
    return refuse(
      "ip-literal",
      `${host} is an IP address; register the endpoint under a public host name (private, loopback and link-local addresses must never be reachable, and a name is what we can check)`,
    );
  }
  if (endsWithLabel(host, "localhost")) {
    return refuse("localhost", `${host} is this machine (RFC 6761 §6.3 "localhost"), not a public host`);
  }
  if (endsWithLabel(host, "internal")) {
    return refuse(
      "internal-name",
      `${host} is under .internal, reserved for private networks; it never resolves publicly`,
    );
  }
  if (endsWithLabel(host, "local")) {
    return refuse("mdns-local", `${host} is under .local (RFC 6762 multicast DNS), a local-network name`);
  }
  if (endsWithLabel(host, "localdomain")) {
    return refuse("localdomain", `${host} is under .localdomain, a local-network name`);
  }
  if (endsWithLabel(host, "home.arpa")) {
    return refuse("home-arpa", `${host} is under .home.arpa (RFC 8375), reserved for home networks`);
  }
  const special = SPECIAL_USE_SUFFIXES.find((suffix) => endsWithLabel(host, suffix));
  if (special) {
    return refuse("special-use", `${host} is under .${special}, a special-use name that never resolves publicly`);
  }
  if (!host.includes(".")) {
    return refuse(
      "single-label",
      `${host} has a single label; a public host name has a domain (e.g. hooks.example.com)`,
    );
  }
  return null;
}

/** Whether `raw` may be an endpoint's URL; the refusal names its rule and says why. */
export function checkWebhookUrl(raw: string, options: WebhookUrlOptions): WebhookUrlCheck {
  if (raw.length > MAX_WEBHOOK_URL_LENGTH) {
    return refuse("too-long", `the URL has ${raw.length} characters; at most ${MAX_WEBHOOK_URL_LENGTH} are accepted`);
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return refuse("not-a-url", "this is not an absolute URL (e.g. https://hooks.example.com/subprocessors)");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return refuse("https-only", `${url.protocol} URLs are not accepted; the endpoint must be https://`);
  }
  if (url.username !== "" || url.password !== "") {
    return refuse(
      "userinfo",
      "the URL carries a user name or password; it would be stored and logged with the URL — authenticate with the signature instead",
    );
  }
  if (options.allowLocalHttp && url.protocol === "http:" && url.hostname === "127.0.0.1" && url.port !== "") {
    return { ok: true, url };
  }
  const refusal = hostRefusal(url.hostname.replace(/\.$/, ""));
  if (refusal) return refusal;
  if (url.protocol !== "https:") {
    return refuse("https-only", "plain http:// is not accepted; the endpoint must be https://");
  }
  return { ok: true, url };
}
