/**
 * What ends a response early: the client going away, or the server's drain deadline. A sync run registers
 * its abort; a stream registers how it ends (a terminal event, then the end); a response still unanswered when
 * the grace after the deadline is over is answered 503 `UNAVAILABLE` here, never cut off with an empty reply.
 */
import type http from "node:http";
import type { Response } from "express";
import { RETRY_AFTER_SECONDS } from "./http-error.js";
import { LazyAbort } from "../graph/lazy-abort.js";

interface RunLocals {
  abortRun?: (reason: Error) => void;
  endStream?: (reason: Error) => void;
}

/** What a response still going at the drain deadline is told. */
export const SHUTTING_DOWN = "The server is shutting down; retry the request.";

/**
 * The abort of the run answering `res` (a {@link LazyAbort}: no AbortController unless the run asks for a
 * signal), fired when the client goes away before the response is sent (the request-context middleware's own
 * close listener fires it: one listener per response instead of two), or when the server's drain deadline
 * comes before the run ends (see {@link abortRunOf}).
 */
export function clientGone(res: Response): LazyAbort {
  const abort = new LazyAbort();
  (res.locals as RunLocals).abortRun = (reason) => abort.abort(reason);
  return abort;
}

/** The function that aborts the run answering `res`, if a run answers it. */
export function abortRunOf(res: object): ((reason: Error) => void) | undefined {
  return (res as { locals?: RunLocals }).locals?.abortRun;
}

/**
 * Registers how the stream answering `res` ends at the drain deadline: it sends its terminal event and ends
 * the response (the drain waits for that before closing connections).
 *
 * @example
 * endStreamAtDeadline(res, () => { sse.send({ type: "error", seq, ts, error, error_code: "UNAVAILABLE" }); sse.close(); });
 */
export function endStreamAtDeadline(res: Response, end: (reason: Error) => void): void {
  (res.locals as RunLocals).endStream = end;
}

/** How the stream answering `res` ends at the drain deadline, if one was registered. */
export function streamEndOf(res: object): ((reason: Error) => void) | undefined {
  return (res as { locals?: RunLocals }).locals?.endStream;
}

/**
 * Answers a response nobody answered by the end of the drain: 503 `UNAVAILABLE` with `Retry-After`, the DESIGN
 * error body and the request id the request-context middleware set.
 */
export function answerShuttingDown(res: http.ServerResponse): void {
  if (res.headersSent || res.destroyed) return;
  const requestId = res.getHeader("X-Request-ID");
  const body = JSON.stringify({ error: SHUTTING_DOWN, error_code: "UNAVAILABLE", request_id: typeof requestId === "string" ? requestId : "" });
  res.writeHead(503, { "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(body), "Retry-After": String(RETRY_AFTER_SECONDS), Connection: "close" });
  res.end(body);
}
