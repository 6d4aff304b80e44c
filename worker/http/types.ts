import type { Locale } from "../../domain/schema/common.ts";

/** What a browser form post (form-encoded, Accept: text/html) wants instead of JSON answers. */
export interface HtmlForm {
  /** Language of the page the form was on; result and error pages use it. */
  locale: Locale;
  /** Static page to 303 to on error (`?reason=<code>` is appended); without it an HTML error page is rendered. */
  errorRedirect?: string;
}

/** Hono environment shared by every route module. `Env` comes from the generated worker-configuration.d.ts. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    htmlForm: HtmlForm | undefined;
  };
}
