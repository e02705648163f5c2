import http from "node:http";

/**
 * Where a retiring worker passes requests on during a handover: the shared port, which from then on only
 * the workers that replace it accept.
 */
export interface HandoverTarget {
  /** The configured listening host (`0.0.0.0` and `::` are reached on loopback). */
  host: string;
  port: number;
}

/** Headers of one hop only: never passed on in either direction. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"]);

/** Raw header pairs (`[name, value, name, value…]`) without the hop-by-hop ones. */
function endToEnd(raw: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    if (!HOP_BY_HOP.has(name.toLowerCase())) kept.push(name, raw[i + 1] as string);
  }
  return kept;
}

const connectHost = (host: string) => (host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host);

/**
 * A request listener for a worker that is being replaced: it passes each request on, over a fresh
 * connection, to the workers now serving the shared port, and streams their answer back with
 * `Connection: close`. Why: a keep-alive client may send a request on a connection to the old worker at any
 * moment — closing such a connection from the server races that request (the client sees "other side
 * closed"), and answering it with the old code would break "after a reload, the new code answers". Passed
 * on, the request gets the new code, and the client moves to a new connection. The new worker sees the
 * request come from loopback.
 */
export function handoverListener(target: HandoverTarget): http.RequestListener {
  const host = connectHost(target.host);
  return (req, res) => {
    const upstream = http.request({ host, port: target.port, method: req.method, path: req.url, headers: endToEnd(req.rawHeaders), agent: false, setHost: false }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, [...endToEnd(answer.rawHeaders), "Connection", "close"]);
      answer.pipe(res);
    });
    upstream.on("error", (error) => {
      if (res.headersSent) {
        res.destroy(error);
        return;
      }
      const body = JSON.stringify({ error: `The reloading server could not pass the request on: ${error.message}`, error_code: "UNAVAILABLE", request_id: "" });
      res.writeHead(503, { "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(body), "Retry-After": "1", Connection: "close" });
      res.end(body);
    });
    // The caller went away: so does the passed-on request (its run is cancelled like any disconnected one).
    res.on("close", () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  };
}
