import {
  type AnnexCEntry,
  type AnnexCSnapshot,
  annexCVersionDocument,
  fingerprint,
  type VersionAudience,
} from "../../domain/annex.ts";
import { canonicalJson, type ReadonlyWeakMap } from "../../domain/canonical.ts";
import type { Content } from "../../domain/content.ts";
import { annexCPaths, type DocumentOf } from "../../domain/machine.ts";
import type { IsoDate } from "../../domain/schema/common.ts";
import type { AnnexCDocumentData } from "../../domain/schema/documents.ts";
import { annexOn } from "./annex.ts";

// The per-version documents are asked for by their own files, the catalogue and the change events alike: each is
// built once per build and content (keyed by the content object, so `astro dev` never serves a stale one).

const built = new WeakMap<object, Map<string, Promise<AnnexCDocumentData>>>();

/**
 * The canonical text of each entry of a version, written once: an entry goes into its version's file, ten audience
 * files (whole, when every location applies) and their fingerprints. Keyed by the entry object, which nothing changes
 * once resolved (site/lib/annex.ts).
 */
const written = new WeakMap<object, string>();

/**
 * `text` as one piece. A string built with `+=` is held as a tree of its pieces (every key, quote and comma of an
 * entry) until something reads it whole, and a text kept here is read whole many times: by the fingerprint's hash and
 * by every file it goes into, each walking that tree again (3 s of a build's 384 documents).
 */
function flat(text: string): string {
  return UTF8_TEXT.decode(UTF8.encode(text));
}
const UTF8 = new TextEncoder();
const UTF8_TEXT = new TextDecoder();
const entriesWritten = new WeakSet<object>();

/**
 * A version's entries for everyone, or for one audience: the audience's list is resolved once (site/lib/annex.ts), and
 * the domain's filter keeps each of its entries as the same object (each is seen whole by the audience it was filtered
 * for), so the text of an entry that only part of applies to is written once too, not once for the fingerprint and again
 * for the file.
 */
function entriesOf(content: Content, date: IsoDate, audience?: VersionAudience): AnnexCEntry[] {
  const { entries } = annexOn(content, date, audience);
  if (!entriesWritten.has(entries)) {
    for (const entry of entries) written.set(entry, flat(canonicalJson(entry, written)));
    // The list too: the fingerprint and the file each write it, and cohorts that see the same part share it.
    written.set(entries, canonicalJson(entries, written));
    entriesWritten.add(entries);
  }
  return entries;
}

/**
 * Fingerprints by snapshot: cohorts of a region that see the same part of a version share its entry list (site/lib/
 * annex.ts), so the 150 MB of audience snapshots are hashed once per distinct list, not once per file.
 */
const fingerprints = new WeakMap<object, Map<string, Promise<string>>>();

function fingerprintOf(snapshot: AnnexCSnapshot): Promise<string> {
  let byVersions = fingerprints.get(snapshot.entries);
  if (!byVersions) {
    byVersions = new Map();
    fingerprints.set(snapshot.entries, byVersions);
  }
  const key = canonicalJson(snapshot.dpaVersions);
  let known = byVersions.get(key);
  if (!known) {
    known = fingerprint(snapshot, written);
    byVersions.set(key, known);
  }
  return known;
}

export function documentsOf(content: Content, baseUrl: string): DocumentOf {
  let byKey = built.get(content);
  if (!byKey) {
    byKey = new Map();
    built.set(content, byKey);
  }
  const cache = byKey;
  return (date: string, audience?: VersionAudience) => {
    const key = `${baseUrl}|${date}|${audience?.region ?? ""}|${audience?.cohort ?? ""}`;
    let doc = cache.get(key);
    if (!doc) {
      doc = annexCVersionDocument(content, date, {
        baseUrl,
        audience,
        entries: entriesOf(content, date, audience),
        written,
        fingerprintOf,
      });
      cache.set(key, doc);
    }
    return doc;
  };
}

/** The canonical texts written so far, for a document built from these versions (/changes.json's patches). */
export const writtenTexts: ReadonlyWeakMap<object, string> = written;

/** The portal's address as the build knows it (astro.config.mjs `site`, from PUBLIC_BASE_URL). */
export function baseUrlOf(site: URL | undefined): string {
  return (site ?? new URL("http://127.0.0.1:8787")).href;
}

/** A version document as served: canonical JSON, so the same content always gives the same bytes. */
export function jsonResponse(value: unknown, canonical = false): Response {
  const body = canonical ? canonicalJson(value, written) : JSON.stringify(value);
  return new Response(body, { headers: { "Content-Type": "application/json; charset=utf-8" } });
}

/** The permanent files of the version a page shows: its JSON (one per cohort on a region page) and its CSV. */
export interface VersionFiles {
  json: { href: string; label?: string | undefined }[];
  csv?: string | undefined;
}

/** The version in force on `on` (the latest version date not after it), if any. */
export function versionInForce(dates: readonly IsoDate[], on: IsoDate): IsoDate | undefined {
  return dates.filter((d) => d <= on).at(-1);
}

export function versionFiles(date: IsoDate | undefined): VersionFiles {
  if (!date) return { json: [] };
  return { json: [{ href: annexCPaths.json(date) }], csv: annexCPaths.csv(date) };
}
