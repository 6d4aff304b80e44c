import { headerSafe } from "../../emails/message.ts";
import { outboxTransport } from "./outbox.ts";
import type { EmailTransport, TransportOverrides } from "./port.ts";
import { resendTransport } from "./resend.ts";

/** The transport EMAIL_TRANSPORT names: `resend` in production, `outbox` otherwise. Each message passes `headerSafe`. */
export function emailTransport(env: Env, overrides: TransportOverrides = {}): EmailTransport {
  const adapter = env.EMAIL_TRANSPORT === "resend" ? resendTransport(env, overrides) : outboxTransport(env);
  return {
    name: adapter.name,
    send: (messages, options) => adapter.send(messages.map(headerSafe), options),
  };
}
