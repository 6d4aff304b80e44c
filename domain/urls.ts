/**
 * Loopback addresses: where a development-only surface (the outbox of worker/routes/dev.ts, which lists every token
 * it "sent") may be served, and where a deploy must never point (scripts/check-deploy-config.ts).
 */

/**
 * True when `url` is an absolute URL whose host is the loopback interface: `localhost`, any IPv4 address in
 * 127.0.0.0/8 (RFC 1122 §3.2.1.3), or `[::1]`. The WHATWG URL parser normalises the host first, so spellings
 * such as `http://0x7f.1/` or `http://LOCALHOST./` are judged by what they resolve to.
 */
export function isLoopbackUrl(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return false;
  }
  if (host === "localhost" || host === "localhost." || host === "[::1]") return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
