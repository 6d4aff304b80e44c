/** The part of a WeakMap that canonicalJson reads. */
export type ReadonlyWeakMap<K extends object, V> = Pick<WeakMap<K, V>, "get">;

/**
 * Canonical JSON: object keys sorted, no whitespace, arrays kept in the order given (callers sort entries).
 * The same value always gives the same bytes, so its SHA-256 can be recomputed by anyone from /annex-c.json.
 *
 * `written` holds texts already written for some objects, by identity, for a caller that writes the same objects into
 * several documents (the build: one entry appears in a version's file, its audience files and their fingerprints).
 * Only for values nobody changes afterwards: a changed object would keep its old text.
 */
export function canonicalJson(value: unknown, written?: ReadonlyWeakMap<object, string>): string {
  if (value === null || typeof value !== "object") {
    if (typeof value === "number" && !Number.isFinite(value)) throw new TypeError("canonical JSON has no NaN/Infinity");
    return JSON.stringify(value);
  }
  const known = written?.get(value);
  if (known !== undefined) return known;
  // Written with loops and one growing string rather than entries/filter/map/join: a version document of 1,000
  // sub-processors is 600 kB, and the build writes several hundred of them (README "Benchmarks").
  let out: string;
  if (Array.isArray(value)) {
    out = "[";
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      out += `${i === 0 ? "" : ","}${canonicalJson(item === undefined ? null : item, written)}`;
    }
    out += "]";
  } else {
    const record = value as Record<string, unknown>;
    out = "{";
    for (const key of Object.keys(record).sort()) {
      const item = record[key];
      if (item === undefined) continue;
      out += `${out.length === 1 ? "" : ","}${JSON.stringify(key)}:${canonicalJson(item, written)}`;
    }
    out += "}";
  }
  return out;
}

/** RFC 4648 §5 base64url without padding: tokens, key ids and JOSE segments. */
export function base64url(bytes: Uint8Array | ArrayBuffer): string {
  let binary = "";
  for (const b of new Uint8Array(bytes)) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The inverse of `base64url`; throws a TypeError on any character outside the alphabet. */
export function fromBase64url(text: string): Uint8Array<ArrayBuffer> {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new TypeError("not base64url");
  const binary = atob(
    text
      .replace(/-/g, "+")
      .replace(/_/g, "/")
      .padEnd(Math.ceil(text.length / 4) * 4, "="),
  );
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** Lower-case hex SHA-256 of the UTF-8 bytes of `text` (Web Crypto: available in Node, workerd and browsers). */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
