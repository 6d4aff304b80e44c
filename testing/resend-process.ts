// The fake Resend API in its own process (testing/resend-server.ts startFakeResendProcess), so the sender under test
// and the fake do not share one event loop (the fake's clock must see requests when they arrive): the worker tests'
// runner and the benchmarks' both have other work on theirs. The fake itself runs in a worker thread; this thread only
// stamps each request's arrival and passes it on, so the fake's own work (reading and parsing bodies of 1.5 MB ten
// times a second, and the garbage collections that makes: up to 18 ms measured) never delays the stamp its rate limit
// judges (README "Benchmarks"). A connection the fake drops is dropped here too; one it never answers is never
// answered. `--no-bodies` keeps only who got what subject. Prints its URL on the first line of stdout; stops when its
// stdin ends (with the parent).
import { once } from "node:events";
import { Agent, createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { startFakeResend } from "./resend-server.ts";

const ARRIVED_AT = "x-fake-arrived-at";

if (!isMainThread) {
  const fake = await startFakeResend({ keepBodies: workerData.keepBodies, arrivalHeader: ARRIVED_AT });
  parentPort?.once("message", () => {
    void fake.close().then(() => parentPort?.postMessage("closed"));
  });
  parentPort?.postMessage(fake.url);
} else {
  const worker = new Worker(new URL(import.meta.url), {
    workerData: { keepBodies: !process.argv.includes("--no-bodies") },
  });
  const [inner] = (await once(worker, "message")) as [string];
  const target = new URL(inner);
  const agent = new Agent({ keepAlive: true });
  const server = createServer((req, res) => {
    const arrivedAt = performance.timeOrigin + performance.now();
    const upstream = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, [ARRIVED_AT]: String(arrivedAt) },
        agent,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        answer.on("aborted", () => res.destroy());
      },
    );
    upstream.on("error", () => res.destroy());
    res.on("close", () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  process.stdout.write(`http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
  process.stdin.resume();
  process.stdin.on("end", () => {
    server.close();
    server.closeAllConnections();
    worker.postMessage("close");
    void once(worker, "message").then(() => process.exit(0));
  });
}
