import type { ContactEvidence, CustomerEvidence } from "../../domain/evidence.ts";
import type { Evidence } from "../evidence/publication-evidence.ts";
import { html, page, type SafeHtml } from "./html.ts";

// The evidence of a publication as a printable page for an auditor's file (GET /api/admin/publications/{id}/
// evidence.html): the site's stylesheet (its print rules), no scripts and no inline styles, so the worker's CSP
// (domain/security-headers.ts) holds. The same facts as the JSON and the CSV, in English.

const STATUS: Record<CustomerEvidence["status"], string> = {
  "not-concerned": "not concerned",
  notified: "notified",
  pending: "sent, delivery not yet proven",
  "not-notified": "NOT NOTIFIED",
};

function contactLine(k: ContactEvidence): SafeHtml {
  const times = [
    k.sentAt ? `sent ${k.sentAt}` : "",
    k.deliveredAt ? `delivered ${k.deliveredAt}` : "",
    k.bouncedAt ? `bounced ${k.bouncedAt}` : "",
  ].filter(Boolean);
  return html`<li>${k.email} (${k.locale ?? "?"}): <strong>${k.notSentBecause ?? k.status}</strong>${times.length ? `; ${times.join("; ")}` : ""}${k.messageId ? html`; message id <code>${k.messageId}</code>` : ""}</li>`;
}

function customerRow(c: CustomerEvidence, alertedAt: string | undefined): SafeHtml {
  return html`<tr>
<th scope="row">${c.customer}${c.name ? html`<br>${c.name}` : ""}</th>
<td>${c.region}${c.cohort ? ` / ${c.cohort}` : ""}</td>
<td>${c.concerned ? "yes" : html`no: ${c.notConcernedReason ?? ""}`}</td>
<td>${STATUS[c.status]}${c.notNotified && alertedAt ? html`<br>vendor alerted ${alertedAt}` : ""}</td>
<td><ul>${c.contacts.map(contactLine)}</ul></td>
<td>${c.statedDeadline ?? ""}</td>
<td>${c.honouredDeadline ?? ""}</td>
<td>${
    c.objections.length === 0
      ? "none"
      : html`<ul>${c.objections.map(
          (o) =>
            html`<li><code>${o.id}</code> ${o.objectedAt}${o.late ? " (late)" : ""}: ${o.state}${o.outcome ? `, ${o.outcome}` : ""}; ${o.changes.join(", ")}</li>`,
        )}</ul>`
  }</td>
<td>${c.consentDeemedOn ?? ""}</td>
</tr>`;
}

export function evidencePage(e: Evidence): Response {
  const t = e.totals;
  const body = html`<dl>
<dt>Publication</dt><dd>${e.publication.id}, published ${e.publication.publishedAt}</dd>
<dt>Fingerprint</dt><dd><code>${e.publication.fingerprint}</code></dd>
<dt>Previous fingerprint</dt><dd><code>${e.publication.previousFingerprint ?? "none (baseline)"}</code></dd>
<dt>As of</dt><dd>${e.asOf} (consent is deemed relative to this instant)</dd>
</dl>
<div class="table-scroll"><table>
<caption>Totals</caption>
<thead><tr><th scope="col">customers</th><th scope="col">concerned</th><th scope="col">notified</th><th scope="col">pending</th><th scope="col">not notified</th><th scope="col">objected</th><th scope="col">consent deemed</th><th scope="col">contacts sent</th><th scope="col">delivered</th><th scope="col">bounced</th></tr></thead>
<tbody><tr><td>${t.customers}</td><td>${t.concerned}</td><td>${t.notified}</td><td>${t.pending}</td><td>${t.notNotified}</td><td>${t.objected}</td><td>${t.deemed}</td><td>${t.sent}</td><td>${t.delivered}</td><td>${t.bounced}</td></tr></tbody>
</table></div>
<div class="table-scroll"><table>
<caption>Customers</caption>
<thead><tr><th scope="col">customer</th><th scope="col">region / cohort</th><th scope="col">concerned</th><th scope="col">notice</th><th scope="col">contacts</th><th scope="col">stated deadline</th><th scope="col">honoured deadline</th><th scope="col">objections</th><th scope="col">consent deemed on</th></tr></thead>
<tbody>
${e.customers.map((c) => customerRow(c, e.alerted[c.customer]))}
</tbody>
</table></div>
<p>DPA 5.3: silence for the objection period from receipt counts as consent; a customer not notified never does.</p>`;
  return page({ locale: "en", title: `Evidence of publication ${e.publication.id}`, body });
}
