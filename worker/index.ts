/**
 * The Worker: static site (Workers Static Assets) + API on one origin. Each resource is one Hono
 * module mounted here with one `app.route()` line; the queue and cron handlers delegate to their modules.
 */
import { createApp } from "./app.ts";
import { runScheduled } from "./cron.ts";
import { handleQueue } from "./notices/queue.ts";
import dev from "./routes/dev.ts";
import health from "./routes/health.ts";
import pages from "./routes/pages.ts";
import subscriptions from "./routes/subscriptions.ts";

const app = createApp();

app.route("/api/health", health);
app.route("/api/subscriptions", subscriptions);
app.route("/api/dev", dev);
app.route("/", pages);

export default {
  fetch: app.fetch,
  queue: (batch, env) => handleQueue(batch, env),
  scheduled: (controller, env, ctx) => {
    ctx.waitUntil(runScheduled(env, new Date(controller.scheduledTime)));
  },
} satisfies ExportedHandler<Env>;
