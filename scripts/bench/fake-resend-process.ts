// The fake Resend API in its own process, so the benchmark's sender and the fake do not share one event loop (the
// fake's clock must see requests when they arrive). Prints its URL on the first line of stdout; stops with the parent.
import { startFakeResend } from "../../testing/resend-server.ts";

const fake = await startFakeResend({ keepBodies: false });
process.stdout.write(`${fake.url}\n`);
process.stdin.resume();
process.stdin.on("end", () => {
  void fake.close().then(() => process.exit(0));
});
