/**
 * The Worker: static site (Workers Static Assets) + API on one origin. Each resource is one Hono
 * module mounted here with one `app.route()` line; the queue and cron handlers delegate to their modules.
 */

import { runScheduled } from "./cron.ts";
import { createApp } from "./http/app.ts";
import { DEAD_LETTER_QUEUE, handleDeadLetters, handleQueue } from "./notices/queue.ts";
import admin from "./routes/admin.ts";
import adminObjections from "./routes/admin-objections.ts";
import { adminCustomers, contactApi, contactPages } from "./routes/customers.ts";
import dev from "./routes/dev.ts";
import evidence from "./routes/evidence.ts";
import health from "./routes/health.ts";
import { noticePages, notices } from "./routes/notices.ts";
import pages from "./routes/pages.ts";
import publications from "./routes/publications.ts";
import subscriptions from "./routes/subscriptions.ts";
import webhookEndpoints from "./routes/webhook-endpoints.ts";
import webhooks from "./routes/webhooks.ts";
import wellKnown from "./routes/well-known.ts";
import { handleWebhookQueue, WEBHOOK_QUEUE_NAME } from "./webhooks/queue.ts";

const app = createApp();

app.route("/api/health", health);
app.route("/api/subscriptions", subscriptions);
app.route("/api/dev", dev);
// Change notices (issue 5): publish, ledger, public hash chain, objections, provider webhooks.
app.route("/api/admin", admin);
// Customers under contract and their notice contacts (issue 13, README "Customers and evidence").
app.route("/api/admin/customers", adminCustomers);
app.route("/api/customers/contacts", contactApi);
// Customers' objections and the evidence of each publication (issue 13, DPA 5.3–5.5); receipts' public key.
app.route("/api/admin/objections", adminObjections);
app.route("/api/admin/publications", evidence);
app.route("/.well-known", wellKnown);
app.route("/api/publications", publications);
app.route("/api/notices", notices);
// A subscriber's outbound webhook endpoints (issue 16, README "Webhooks"), before the inbound provider webhooks.
app.route("/api/webhooks/endpoints", webhookEndpoints);
app.route("/api/webhooks", webhooks);
// A customer's notice contact (issue 13): its one-click unsubscribe.
app.route("/", noticePages);
app.route("/", contactPages);
app.route("/", pages);

export default {
  fetch: app.fetch,
  queue: (batch, env) =>
    batch.queue === WEBHOOK_QUEUE_NAME
      ? handleWebhookQueue(batch, env)
      : batch.queue === DEAD_LETTER_QUEUE
        ? handleDeadLetters(batch, env)
        : handleQueue(batch, env),
  scheduled: (controller, env, ctx) => ctx.waitUntil(runScheduled(env, new Date(controller.scheduledTime))),
} satisfies ExportedHandler<Env>;
