/**
 * A webhook request as Resend sends it: Svix-signed (`svix-id`, `svix-timestamp`, `svix-signature`) with the
 * endpoint's signing secret. Shared by the worker tests (in workerd) and the end-to-end tests (against `npm start`).
 */
import { Webhook } from "svix";

export function signedWebhook(
  payload: string,
  secret: string,
  options: { id?: string; at?: Date } = {},
): { method: "POST"; headers: Record<string, string>; body: string } {
  const id = options.id ?? `msg_${crypto.randomUUID()}`;
  const at = options.at ?? new Date();
  return {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      "svix-id": id,
      "svix-timestamp": String(Math.floor(at.getTime() / 1000)),
      "svix-signature": new Webhook(secret).sign(id, at, payload),
    },
    body: payload,
  };
}
