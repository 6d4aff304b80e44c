import type { TestProject } from "vitest/node";
import { startFakeResend } from "../fakes/resend-server.ts";

declare module "vitest" {
  export interface ProvidedContext {
    resendUrl: string;
  }
}

/** Starts the fake Resend API once for the worker project; workerd reaches it via RESEND_BASE_URL. */
export default async function setup(project: TestProject) {
  const fake = await startFakeResend();
  project.provide("resendUrl", fake.url);
  return async () => {
    await fake.close();
  };
}
