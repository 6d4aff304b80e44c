// The environment every script gives Astro and Wrangler: no telemetry, no update check, no network at all. The README
// promises that `npm start`, the build and the tests need none; each of these would otherwise reach out on every run
// (and print a stack trace where there is no network).

export const TOOL_ENV: Readonly<Record<string, string>> = Object.freeze({
  // Astro prints its telemetry banner and sends usage data unless this is set (the CLI reads it before the config).
  ASTRO_TELEMETRY_DISABLED: "1",
  // Wrangler's usage metrics and crash reports.
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_SEND_ERROR_REPORTS: "false",
  // The banner is where Wrangler asks the registry for a newer version; without it, no update check.
  WRANGLER_HIDE_BANNER: "true",
  // Miniflare fetches the `Request.cf` object from workers.cloudflare.com; the worker does not read request.cf, so
  // the built-in placeholder does.
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
});

/** `process.env` with TOOL_ENV on top (a value the caller set explicitly wins). */
export function toolEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...TOOL_ENV, ...process.env, ...extra };
}
