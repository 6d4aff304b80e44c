/**
 * URLs the webhook SSRF guard must refuse in production, with the rule each breaks (README "Webhooks"): shared by the
 * guard's unit test and the registration API's worker test, so both prove the same table.
 */
import { MAX_WEBHOOK_URL_LENGTH, type WebhookUrlRule } from "../../domain/webhook-url.ts";

// Every spelling the URL parser normalises to an IP address is an IP literal.
export const REFUSED_WEBHOOK_URLS: [string, WebhookUrlRule][] = [
  ["https://127.0.0.1/hook", "ip-literal"],
  ["https://10.0.0.1/hook", "ip-literal"],
  ["https://192.168.1.20/hook", "ip-literal"],
  ["https://172.16.0.1/hook", "ip-literal"],
  ["https://169.254.169.254/latest/meta-data", "ip-literal"],
  ["https://0.0.0.0/", "ip-literal"],
  ["https://8.8.8.8/", "ip-literal"],
  ["https://127.0.0.1./hook", "ip-literal"],
  ["https://2130706433/hook", "ip-literal"], // decimal
  ["https://0x7f000001/hook", "ip-literal"], // hex
  ["https://0x7f.1/hook", "ip-literal"], // hex, short form
  ["https://0177.0.0.1/hook", "ip-literal"], // octal
  ["https://017700000001/hook", "ip-literal"], // octal, one number
  ["https://127.1/hook", "ip-literal"], // short dotted
  ["https://%31%32%37.0.0.1/hook", "ip-literal"], // percent-encoded
  ["https://[::1]/hook", "ip-literal"],
  ["https://[::]/hook", "ip-literal"],
  ["https://[fe80::1]/hook", "ip-literal"],
  ["https://[fd00::1]/hook", "ip-literal"],
  ["https://[::ffff:127.0.0.1]/hook", "ip-literal"], // IPv4-mapped
  ["https://[::ffff:a9fe:a9fe]/hook", "ip-literal"], // mapped 169.254.169.254
  ["https://[2001:db8::1]/hook", "ip-literal"],
  ["https://localhost/hook", "localhost"],
  ["https://LOCALHOST./hook", "localhost"],
  ["https://api.localhost/hook", "localhost"],
  ["https://metadata.google.internal/computeMetadata", "internal-name"],
  ["https://hooks.internal/", "internal-name"],
  ["https://printer.local/", "mdns-local"],
  ["https://box.localdomain/", "localdomain"],
  ["https://nas.home.arpa/", "home-arpa"],
  ["https://hooks.test/", "special-use"],
  ["https://hooks.invalid/", "special-use"],
  ["https://hooks.example/", "special-use"],
  ["https://hooks.alt/", "special-use"],
  ["https://abc.onion/", "special-use"],
  ["https://intranet/hook", "single-label"],
  ["https://intranet./hook", "single-label"],
  ["https://user:pass@hooks.example.com/", "userinfo"],
  ["https://user@hooks.example.com/", "userinfo"],
  ["http://hooks.example.com/", "https-only"],
  ["ftp://hooks.example.com/", "https-only"],
  ["file:///etc/passwd", "https-only"],
  ["javascript:alert(1)", "https-only"],
  ["hooks.example.com/path", "not-a-url"],
  ["", "not-a-url"],
  ["https://", "not-a-url"],
  [`https://hooks.example.com/${"a".repeat(MAX_WEBHOOK_URL_LENGTH)}`, "too-long"],
];
