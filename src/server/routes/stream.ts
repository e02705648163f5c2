import { Router, type Request, type Response } from "express";
import type { LoadedGraph } from "../../definition/registry.js";
import { isTerminalEvent, type RunEvent } from "../../graph/events.js";
import type { AppContext } from "../context.js";
import { mountGraphPosts } from "./graph-post.js";
import { requestIdOf } from "../middleware/request-id.js";
import { openSse } from "../sse.js";

/**
 * `POST /api/v{V}/{G}/stream` for every graph version: the input is validated first (a 422 JSON answer, the
 * same as the sync route's, before any stream byte), then the run's events go out as server-sent events:
 * `event:` = type, `id:` = seq, `data:` = the event JSON, comment heartbeats while idle, and the response
 * ends after the terminal event. A client that goes away aborts the run; the graph's timeout ends it with a
 * terminal `error` event (`TIMEOUT`).
 *
 * @example
 * streamRoutes(ctx, router); // curl -N -d '{"text":"hi"}' -H 'content-type: application/json' …/api/v1/echo/stream
 */
export function streamRoutes(ctx: AppContext, router: Router = Router()): Router {
  return mountGraphPosts(ctx, router, "stream", streamHandler);
}

function streamHandler(ctx: AppContext, graph: LoadedGraph) {
  const runs = ctx.runs;
  const maxBuffered = ctx.config.ws.maxBufferedBytes;
  return async (req: Request, res: Response): Promise<void> => {
    // 1. Validate before the stream starts: an invalid input is an ordinary 422 JSON answer.
    const input = runs.check(graph, req.body);
    // 2. Open the stream; the client going away aborts the run.
    const gone = new AbortController();
    const sse = openSse(res, { heartbeatMs: ctx.config.ws.heartbeatMs / 2, onClose: () => gone.abort(new Error("The client disconnected")) });
    const send = (event: RunEvent): void => {
      sse.send(event);
      if (isTerminalEvent(event)) sse.close();
      // A reader that falls this far behind is dropped rather than buffered for without bound.
      else if (res.writableLength > maxBuffered) res.destroy();
    };
    // 3. Run; every outcome, failures included, reaches the client as the terminal event (the service logs failures).
    try {
      await runs.start(graph, input, { transport: "stream", validated: true, signal: gone.signal, requestId: requestIdOf(req), user: req.user, onEvent: send });
    } catch {
      // Already told: the terminal error event went out through `send`.
    } finally {
      sse.close();
    }
  };
}
