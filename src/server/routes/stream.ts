import { Router, type Request, type Response } from "express";
import type { LoadedGraph } from "../../definition/registry.js";
import { runDefinition } from "../../definition/run.js";
import { DefinitionRunError, formatIssues } from "../../definition/run-errors.js";
import { isTerminalEvent, type RunEvent } from "../../graph/events.js";
import { runTimeout, type AppContext } from "../context.js";
import { publicEvent } from "../event-flow.js";
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
  const meter = ctx.metrics.runMeter(graph, "stream");
  const maxBuffered = ctx.config.ws.maxBufferedBytes;
  return async (req: Request, res: Response): Promise<void> => {
    // 1. Validate before the stream starts: an invalid input is an ordinary 422 JSON answer.
    const parsed = graph.definition.input.safeParse(req.body);
    if (!parsed.success) {
      throw new DefinitionRunError("VALIDATION_ERROR", `Invalid input for ${graph.name} v${graph.version}:\n${formatIssues(parsed.error.issues)}`, { details: parsed.error.issues });
    }
    // 2. Open the stream; the client going away aborts the run.
    const requestId = requestIdOf(req);
    const gone = new AbortController();
    const sse = openSse(res, { heartbeatMs: ctx.config.ws.heartbeatMs / 2, onClose: () => gone.abort(new Error("The client disconnected")) });
    const send = (event: RunEvent): void => {
      meter.onEvent(event);
      sse.send(publicEvent(event, ctx.debug));
      if (isTerminalEvent(event)) sse.close();
      // A reader that falls this far behind is dropped rather than buffered for without bound.
      else if (res.writableLength > maxBuffered) res.destroy();
    };
    // 3. Run; every outcome, failures included, reaches the client as the terminal event.
    const started = meter.begin();
    let outcome = "error";
    try {
      await runDefinition(graph, req.body, { signal: gone.signal, requestId, timeoutMs: runTimeout(ctx, graph), user: req.user, onEvent: send });
      outcome = "completed";
    } catch (error) {
      if (error instanceof DefinitionRunError) outcome = error.code.toLowerCase();
      if (outcome === "graph_error" || outcome === "error") (req.log ?? ctx.logger).error({ err: (error as Error).cause ?? error, request_id: requestId, graph: graph.name }, "streamed run failed");
    } finally {
      meter.end(started, outcome);
      sse.close();
    }
  };
}
