import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import type { AnnexCDocument } from "../../domain/annex.ts";
import { canonicalJson, sha256Hex } from "../../domain/canonical.ts";
import { Vendor } from "../../domain/schema/vendor.ts";
import { SECURITY_HEADERS } from "../../domain/security-headers.ts";
import { siteFooter, siteHeader } from "../../site/shell.ts";
import { buildSite, files, ROOT } from "./astro-build.ts";

// Builds the real site from content/ (the shipped vendor) into temporary folders and checks the output as a visitor,
// a crawler and the worker would see it. Two builds: one "today" (after every change) and one on a day when the
// 1 July 2024 changes are announced but not yet in effect, so the upcoming/pending rendering is exercised too.

const TODAY = "2026-11-23";
const BEFORE_JULY_2024 = "2024-06-10";
const KB = 1024;

let out: string;
let pendingOut: string;
let tmp: string;

/** RFC 4180 reader, enough for checking our own export (quoted fields, doubled quotes, CRLF). */
function parseCsv(text: string): Record<string, string>[] {
  const records: string[][] = [];
  let field = "";
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      record.push(field);
      field = "";
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      record.push(field);
      records.push(record);
      record = [];
      field = "";
    } else field += ch;
  }
  if (field !== "" || record.length > 0) records.push([...record, field]);
  const [header, ...rows] = records;
  return rows.map((r) => Object.fromEntries((header ?? []).map((h, i) => [h, r[i] ?? ""])));
}

const read = (dir: string, path: string) => readFileSync(join(dir, path), "utf8");

/** Hosts a page may link to: sub-processors' own websites and privacy contact pages, from content/. */
function subprocessorHosts(): Set<string> {
  const hosts = new Set<string>();
  const dir = join(ROOT, "content/subprocessors");
  for (const f of readdirSync(dir).filter((n) => n.endsWith(".mdx"))) {
    const fm = parseYaml(readFileSync(join(dir, f), "utf8").split(/^---$/m)[1] ?? "") as {
      website: string;
      contact: { url?: string };
    };
    hosts.add(new URL(fm.website).host);
    if (fm.contact.url) hosts.add(new URL(fm.contact.url).host);
  }
  return hosts;
}

beforeAll(() => {
  mkdirSync(join(ROOT, ".astro"), { recursive: true });
  tmp = mkdtempSync(join(ROOT, ".astro", "site-test-"));
  out = join(tmp, "today");
  pendingOut = join(tmp, "pending");
  buildSite(out, TODAY);
  buildSite(pendingOut, BEFORE_JULY_2024);
}, 300_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("every HTML page", () => {
  it("has a language, a title, exactly one h1, a skip link to #main and no script or inline style", () => {
    const pages = files(out, ".html");
    expect(pages.length).toBeGreaterThan(40);
    for (const page of pages) {
      const html = readFileSync(page, "utf8");
      const name = relative(out, page);
      expect(html, name).toMatch(/<html lang="(da|en)"/);
      expect(html, name).toMatch(/<title>[^<]+<\/title>/);
      expect(html.match(/<h1[\s>]/g)?.length, name).toBe(1);
      expect(html, name).toMatch(/<a class="skip" href="#main">/);
      expect(html, name).toMatch(/id="main"/);
      expect(html, name).not.toMatch(/<script/i);
      expect(html, name).not.toMatch(/\son[a-z]+="/i);
      expect(html, name).not.toMatch(/javascript:/i);
      expect(html, name).not.toMatch(/<style/i);
      expect(html, name).not.toMatch(/\sstyle="/i);
    }
  });

  it("loads nothing from elsewhere and links out only to sub-processors' own sites", () => {
    const allowed = subprocessorHosts();
    for (const page of files(out, ".html")) {
      const html = readFileSync(page, "utf8");
      const name = relative(out, page);
      for (const m of html.matchAll(/\s(src|srcset|action|poster|data)="([^"]*)"/g)) {
        expect(m[2], `${name} ${m[1]}`).not.toMatch(/^(https?:)?\/\//);
      }
      for (const m of html.matchAll(/<(\w+)[^>]*\shref="([^"]*)"/g)) {
        const [, tag, url] = m;
        if (!url || !/^(https?:)?\/\//.test(url)) continue;
        expect(tag, `${name}: only anchors may point elsewhere (${url})`).toBe("a");
        expect(allowed.has(new URL(url, "https://portal.test").host), `${name} links to ${url}`).toBe(true);
      }
    }
  });

  it("is at most 30 KB gzipped, and the one stylesheet at most 10 KB", () => {
    for (const page of files(out, ".html")) {
      expect(gzipSync(readFileSync(page)).length, relative(out, page)).toBeLessThanOrEqual(30 * KB);
    }
    const css = files(out, ".css");
    expect(css.map((f) => relative(out, f))).toEqual(["styles/site.css"]);
    expect(gzipSync(readFileSync(css[0] as string)).length).toBeLessThanOrEqual(10 * KB);
    expect(files(out, ".js")).toEqual([]);
  });
});

describe("both languages", () => {
  it("have the same pages, and every page links to itself in the other language", () => {
    const paths = (locale: string) =>
      files(join(out, locale), ".html")
        .map((f) => relative(join(out, locale), f))
        .sort();
    const da = paths("da");
    expect(da).toEqual(paths("en"));
    for (const p of da) {
      const path = `/${p.replace(/index\.html$/, "")}`;
      expect(read(out, join("da", p)), p).toContain(`href="/en${path}" hreflang="en"`);
      expect(read(out, join("en", p)), p).toContain(`href="/da${path}" hreflang="da"`);
    }
  });

  it("have a page for every region, sub-processor, change, Annex C version and DPA version", () => {
    const doc = JSON.parse(read(out, "annex-c.json")) as AnnexCDocument;
    for (const r of doc.regions) expect(read(out, `en/regions/${r.id}/index.html`)).toContain(r.name.en);
    for (const c of doc.changes) expect(read(out, `da/changes/${c.id}/index.html`)).toContain(c.summary.da);
    for (const e of doc.snapshot.entries) expect(read(out, `en/subprocessors/${e.id}/index.html`)).toContain(e.name);
    for (const v of doc.snapshot.dpaVersions) expect(read(out, `en/dpa/${v.version}/index.html`)).toMatch(/<h1>/);
    for (const d of ["2023-10-01", "2024-07-01"]) expect(read(out, `en/annex-c/${d}/index.html`)).toMatch(/<h1>/);
  });
});

describe("pages", () => {
  it("root page sends visitors to the default language and links both", () => {
    const html = read(out, "index.html");
    expect(html).toContain('http-equiv="refresh" content="0; url=/da/"');
    expect(html).toContain('href="/da/"');
    expect(html).toContain('href="/en/"');
  });

  it("a notice page gives the DPA 5.3 objection deadline: 10 Danish working days from receipt", () => {
    // Announced Friday 31 May 2024; 5 June (Constitution Day) is skipped as a customary closing day.
    const html = read(out, "en/changes/2024-07-01-aws-regional-data-centres/index.html");
    expect(html).toContain("17 June 2024");
    expect(html).toContain("if the notice was received on 31 May 2024");
    expect(html).toContain('href="/en/annex-c/2024-07-01/"');
    expect(read(out, "da/changes/2024-07-01-aws-regional-data-centres/index.html")).toContain("17. juni 2024");
  });

  it("the version page of 1 July 2024 shows what changed with ins/del and words, not colour alone", () => {
    const html = read(out, "en/annex-c/2024-07-01/index.html");
    expect(html).toMatch(/<ins><span class="tag">Added:<\/span> <a href="\/en\/subprocessors\/twilio-sendgrid\/">/);
    expect(html).toMatch(
      /<del><span class="tag">Removed:<\/span> <a href="\/en\/subprocessors\/metacompliance-ireland\/">/,
    );
    expect(html).toContain("Compared with the version from 1 October 2023");
    expect(read(out, "en/annex-c/2023-10-01/index.html")).toContain("This is the first version.");
  });

  it("a location kept but applying to other customers is shown as such, not as removed beside added", () => {
    for (const file of ["en/annex-c/2024-07-01/index.html", "da/annex-c/2024-07-01/index.html"]) {
      // Per changed sub-processor: no place is both "no longer used" and "new" with the same mechanism.
      for (const section of read(out, file).split('class="diff-entry"').slice(1)) {
        const text = section.replace(/<[^>]+>/g, "");
        const place = /: ([^·]+ · [^·]+) ·/;
        const lines = (label: RegExp) =>
          text
            .split(label)
            .slice(1)
            .map((part) => place.exec(`: ${part}`)?.[1]?.trim());
        const removed = lines(/Location no longer used|Behandlingssted udgår/);
        const added = lines(/New location|Nyt behandlingssted/);
        expect(
          removed.filter((p) => added.includes(p)),
          file,
        ).toEqual([]);
      }
    }
    const en = read(out, "en/annex-c/2024-07-01/index.html").replace(/<[^>]+>/g, "");
    expect(en).toContain(
      "Same location, now applies to other customers: Dublin, Ireland · Within the EEA – no transfer · All customers → Switzerland, Germany or EEA",
    );
  });

  it("every page has the one shell the worker's pages use too (site/shell.ts): header and footer verbatim", () => {
    const vendor = Vendor.parse(parseYaml(readFileSync(join(ROOT, "content/vendor.yaml"), "utf8")));
    const page = read(out, "da/about/index.html");
    expect(page).toContain(siteHeader({ locale: "da", vendor, alternate: "/en/about/", section: "about" }));
    expect(page).toContain(siteFooter({ locale: "da", vendor }));
    expect(page).toContain('<a href="/da/about/" aria-current="page">');
  });

  it("the subscribe form posts to the API without JavaScript, with a hidden locale and a honeypot", () => {
    const html = read(out, "da/subscribe/index.html");
    expect(html).toMatch(/<form[^>]*method="post"[^>]*action="\/api\/subscriptions"/);
    expect(html).toContain('enctype="application/x-www-form-urlencoded"');
    expect(html).toContain('<input type="hidden" name="locale" value="da">');
    expect(html).toMatch(/<input id="email" name="email" type="email"[^>]*required/);
    expect(html).toContain('<label for="email">');
    expect(html).toMatch(/name="topics" value="subprocessors"/);
    expect(html).toMatch(/name="topics" value="dpa"/);
    expect(html).toMatch(/name="regions" value="uk"/);
    expect(html).toMatch(/<p class="hp" aria-hidden="true">[\s\S]*name="website"[\s\S]*tabindex="-1"/);
  });

  it("before 1 July 2024 the list shows the announced changes as upcoming and Annex C marks them pending", () => {
    const list = read(pendingOut, "en/index.html");
    expect(list).toContain("Upcoming changes");
    expect(list).toContain('href="/en/changes/2024-07-01-twilio-sendgrid-legacy-email/"');
    expect(list).toContain("1 July 2024");
    const annex = read(pendingOut, "en/annex-c/index.html");
    expect(annex).toContain("Takes effect 1 July 2024");
    expect(annex).toContain("Removed on 1 July 2024");
    // Not yet in effect, so today's list does not show Twilio SendGrid yet.
    expect(list).not.toContain('href="/en/subprocessors/twilio-sendgrid/"');
    expect(read(out, "en/index.html")).toContain("There are no announced changes that have yet to take effect.");
  });

  it("the about page lists the closed days of this year and next, customary closing days included", () => {
    const html = read(out, "en/about/index.html");
    expect(html).toContain("Closed days in 2026");
    expect(html).toContain("Closed days in 2027");
    expect(html).toContain('<time datetime="2026-06-05">');
    expect(html).toContain('<time datetime="2027-03-26">'); // Good Friday 2027
    expect(html).not.toContain('<time datetime="2026-05-01">'); // 1 May is not a Danish public holiday
  });

  it("a region page lists, per cohort, only what applies to that region", () => {
    const html = read(out, "en/regions/uk/index.html");
    expect(html).toContain('data-label="Locations">United Kingdom');
    expect(html).not.toContain('data-label="Locations">Canada');
    expect(html).toContain("Customers contracted after 5 July 2023");
  });

  it("the DPA in force is current and the earlier version is marked archived with its period", () => {
    const archived = read(out, "en/dpa/2023-10-01/index.html");
    expect(archived).toContain("Archived version");
    expect(archived).toContain("up to and including 30 June 2024");
    const lead = /<p class="lead">([^<]*)<\/p>/.exec(read(out, "en/dpa/index.html"))?.[1];
    // The lead says the in-force date once (the version's title says it too, so it is not repeated beside it).
    expect(lead).toBe("In force from 1 July 2024.");
  });
});

describe("exports", () => {
  it("/annex-c.json carries the SHA-256 fingerprint of its canonical snapshot", async () => {
    const doc = JSON.parse(read(out, "annex-c.json")) as AnnexCDocument;
    expect(doc.format).toBe("annex-c/1");
    expect(doc.fingerprint).toBe(await sha256Hex(canonicalJson(doc.snapshot)));
    expect(read(out, "en/annex-c/index.html")).toContain(doc.fingerprint);
    // The published list is resolved after every announced change, so the build date does not change it.
    expect((JSON.parse(read(pendingOut, "annex-c.json")) as AnnexCDocument).fingerprint).toBe(doc.fingerprint);
  });

  it("/annex-c.csv has one row per sub-processor and location of the published Annex C", () => {
    const doc = JSON.parse(read(out, "annex-c.json")) as AnnexCDocument;
    const rows = parseCsv(read(out, "annex-c.csv").replace(/^\uFEFF/, ""));
    const expected = doc.snapshot.entries.flatMap((e) =>
      e.locations.map((l) => ({ id: e.id, name: e.name, country: l.country, city: l.city ?? "", since: e.since })),
    );
    expect(rows.map(({ id, name, country, city, since }) => ({ id, name, country, city, since }))).toEqual(expected);
    expect(Object.keys(rows[0] ?? {})).toEqual([
      "id",
      "name",
      "entity",
      "country",
      "city",
      "applies_to",
      "mechanism",
      "since",
      "subprocessor_of",
      "own_list",
      "not_stated_in_dpa",
    ]);
    const twilio = rows.find((r) => r.id === "twilio-sendgrid");
    // The DPA names no transfer mechanism for Twilio: the CSV says so in the mechanism and in its own column.
    expect(twilio?.mechanism).toBe(
      "Standard Contractual Clauses (module 3) with the UK Addendum (not stated in the DPA)",
    );
    expect(twilio?.not_stated_in_dpa).toContain("transfer");
    expect(rows.find((r) => r.id === "moch")?.not_stated_in_dpa).toBe("website");
  });

  it("/annex-c.json marks what the DPA does not state, for the JSON reader as for the page", () => {
    const doc = JSON.parse(read(out, "annex-c.json")) as AnnexCDocument;
    const twilio = doc.snapshot.entries.find((e) => e.id === "twilio-sendgrid");
    expect(twilio?.unconfirmed).toEqual(["contact", "website"]);
    expect(twilio?.entity.unconfirmed).toEqual(["name", "address"]);
    expect(twilio?.locations[0]?.unconfirmed).toEqual(["transfer"]);
    expect(doc.changes.every((c) => c.unconfirmed?.includes("announced"))).toBe(true);
    const page = read(out, "en/subprocessors/twilio-sendgrid/index.html");
    expect(page.match(/not stated in the DPA/g)?.length).toBeGreaterThanOrEqual(4);
    expect(read(out, "da/subprocessors/twilio-sendgrid/index.html")).toContain("ikke oplyst i databehandleraftalen");
  });

  it("the DPA pages say the Danish text prevails and mark the English one as a translation", () => {
    expect(read(out, "da/dpa/2024-07-01/index.html")).toContain("den danske tekst har forrang");
    const en = read(out, "en/dpa/2024-07-01/index.html");
    expect(en).toContain("English translation.");
    expect(en).toContain('href="/da/dpa/2024-07-01/"');
  });

  it("the old region pages of eea-ch redirect to the EEA page (Workers Static Assets _redirects)", () => {
    const rules = read(out, "_redirects")
      .split("\n")
      .filter((l) => l && !l.startsWith("#"))
      .map((l) => l.split(/\s+/));
    for (const locale of ["da", "en"]) {
      expect(rules).toContainEqual([`/${locale}/regions/eea-ch/`, `/${locale}/regions/eea/`, "301"]);
      expect(read(out, `${locale}/regions/eea/index.html`)).toContain(`href="/${locale}/regions/ch/"`);
    }
  });

  it("/feed.xml is Atom with one entry per change", () => {
    const doc = JSON.parse(read(out, "annex-c.json")) as AnnexCDocument;
    const xml = read(out, "feed.xml");
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="utf-8"\?>\s*<feed xmlns="http:\/\/www.w3.org\/2005\/Atom">/);
    expect(xml.match(/<entry>/g)?.length).toBe(doc.changes.length);
    for (const c of doc.changes) expect(xml).toContain(`<id>https://portal.test/en/changes/${c.id}/</id>`);
  });

  it("_headers is built from the header list the worker sets (domain/security-headers.ts), none added by hand", () => {
    const blocks = new Map<string, Record<string, string>>();
    let current: Record<string, string> | undefined;
    for (const line of read(out, "_headers").split("\n")) {
      if (line.trim() === "" || line.startsWith("#")) continue;
      if (!line.startsWith(" ")) {
        current = {};
        blocks.set(line.trim(), current);
        continue;
      }
      const colon = line.indexOf(":");
      if (current) current[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
    }
    expect(blocks.get("/*")).toEqual(SECURITY_HEADERS);
    expect(blocks.get("/*")?.["Content-Security-Policy"]).toMatch(/default-src 'self'.*frame-ancestors 'none'/);
    expect(blocks.get("/annex-c.csv")?.["Content-Type"]).toBe("text/csv; charset=utf-8");
    expect(blocks.get("/feed.xml")?.["Content-Type"]).toBe("application/atom+xml; charset=utf-8");
    expect(blocks.get("/annex-c.json")?.["Access-Control-Allow-Origin"]).toBe("*");
    expect([...blocks.keys()]).toEqual(["/*", "/feed.xml", "/annex-c.csv", "/annex-c.json"]);
    expect(existsSync(join(ROOT, "site/public/_headers"))).toBe(false);
  });
});
