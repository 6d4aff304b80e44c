// The local webhook receiver in its own process, so the worker's consumer and the receiver do not share one event
// loop (the receiver's timestamps must see calls when they arrive). Prints its URL on the first line of stdout; stops
// with the parent.
import { startWebhookReceiver } from "../../testing/webhook-receiver.ts";

const receiver = await startWebhookReceiver();
process.stdout.write(`${receiver.url}\n`);
process.stdin.resume();
process.stdin.on("end", () => {
  void receiver.close().then(() => process.exit(0));
});
