/**
 * Canonical JSON: object keys sorted, no whitespace, arrays kept in the order given (callers sort entries).
 * The same value always gives the same bytes, so its SHA-256 can be recomputed by anyone from /annex-c.json.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") {
    if (typeof value === "number" && !Number.isFinite(value)) throw new TypeError("canonical JSON has no NaN/Infinity");
    return JSON.stringify(value);
  }
  // Written with loops and one growing string rather than entries/filter/map/join: a version document of 1,000
  // sub-processors is 600 kB, and the build writes several hundred of them (README "Benchmarks").
  if (Array.isArray(value)) {
    let out = "[";
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      out += `${i === 0 ? "" : ","}${canonicalJson(item === undefined ? null : item)}`;
    }
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  let out = "{";
  for (const key of Object.keys(record).sort()) {
    const item = record[key];
    if (item === undefined) continue;
    out += `${out.length === 1 ? "" : ","}${JSON.stringify(key)}:${canonicalJson(item)}`;
  }
  return `${out}}`;
}

/** Lower-case hex SHA-256 of the UTF-8 bytes of `text` (Web Crypto: available in Node, workerd and browsers). */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
