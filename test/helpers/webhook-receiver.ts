/** A webhook receiver for tests: records every request and answers with the status the test picks. */
import http, { type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { onTestFinished } from "vitest";

/** One request the receiver got. */
export interface Received {
  headers: IncomingHttpHeaders;
  /** The Standard Webhooks headers, as strings. */
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  /** What the receiver answered (0: it never answered). */
  status: number;
}

/**
 * Listens on 127.0.0.1:`port` (0: any) until the test ends. `answer(n)` picks the status of the n-th request
 * (0-based), or "hang" to never answer it.
 */
export async function startReceiver(answer: (n: number) => number | "hang", port = 0): Promise<{ port: number; url: string; received: Received[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (body += chunk));
    req.on("end", () => {
      const status = answer(received.length);
      const h = req.headers;
      received.push({ headers: h, id: String(h["webhook-id"]), timestamp: String(h["webhook-timestamp"]), signature: String(h["webhook-signature"]), body, status: status === "hang" ? 0 : status });
      if (status === "hang") return;
      res.statusCode = status;
      res.end();
    });
  });
  server.listen(port, "127.0.0.1");
  await new Promise((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  onTestFinished(close);
  const bound = (server.address() as AddressInfo).port;
  return { port: bound, url: `http://127.0.0.1:${bound}`, received, close };
}
