import { Hono } from "hono";
import { errorPage } from "../pages/html.ts";
import { ApiError, asApiError, problemResponse } from "./errors.ts";
import { originCheck, securityHeaders, withSecurityHeaders } from "./security.ts";
import type { AppEnv } from "./types.ts";

/**
 * The bare application every route module is mounted on: security headers on every answer, the
 * Origin check on state-changing requests, and the one place errors become problem+json.
 */
export function createApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use("*", securityHeaders);
  app.use("*", originCheck);

  app.onError((err, c) => {
    const error = asApiError(err, c);
    const form = c.get("htmlForm");
    let response: Response;
    if (form?.errorRedirect) {
      const target = new URL(form.errorRedirect, c.req.url);
      target.searchParams.set("reason", error.code);
      response = new Response(null, { status: 303, headers: { Location: target.pathname + target.search } });
    } else if (form || (c.req.method === "GET" && !new URL(c.req.url).pathname.startsWith("/api/"))) {
      response = errorPage(error, form?.locale);
    } else {
      response = problemResponse(error);
    }
    return withSecurityHeaders(response);
  });

  app.notFound((c) => {
    const path = new URL(c.req.url).pathname;
    if (path.startsWith("/api/") || path === "/api") {
      return withSecurityHeaders(problemResponse(new ApiError("not_found", `There is no API endpoint at ${path}.`)));
    }
    // Paths the worker runs first for but does not answer itself: let the static site answer (its 404 page).
    return c.env.ASSETS.fetch(c.req.raw).then(withSecurityHeaders);
  });
  return app;
}
