import { Router, type Request, type Response } from "express";
import type { LoadedGraph } from "../../definition/registry.js";
import { isTerminalEvent, type RunEvent } from "../../graph/events.js";
import type { AppContext } from "../context.js";
import { mountGraphPosts, type Mount } from "./graph-post.js";
import { requestIdOf } from "../middleware/request-id.js";
import { openSse } from "../sse.js";
import { endStreamAtDeadline, SHUTTING_DOWN } from "../run-abort.js";
import { storeInterruptedRun } from "../interrupted-run.js";
import { DefinitionRunError } from "../../definition/run-errors.js";

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
export function streamRoutes<M extends Mount = Router>(ctx: AppContext, router: M = Router() as unknown as M): M {
  return mountGraphPosts(ctx, router, "stream", streamHandler);
}

function streamHandler(ctx: AppContext, graph: LoadedGraph) {
  const runs = ctx.runs;
  const maxBuffered = ctx.config.ws.maxBufferedBytes;
  return async (req: Request, res: Response): Promise<void> => {
    // 1. Validate before the stream starts: an invalid input is an ordinary 422 JSON answer.
    const input = runs.check(graph, req.body);
    // 2. Open the stream; the client going away aborts the run.
    const requestId = requestIdOf(req);
    const gone = new AbortController();
    let lastSeq = 0;
    const sse = openSse(res, { heartbeatMs: ctx.config.ws.heartbeatMs / 2, onClose: () => gone.abort(new Error("The client disconnected")) });
    // At the drain deadline the run's terminal event is UNAVAILABLE (as a sync run's 503): retry elsewhere.
    endStreamAtDeadline(res, (reason) => {
      if (sse.closed) return;
      const ending: RunEvent = { type: "error", seq: ++lastSeq, ts: Date.now(), error: SHUTTING_DOWN, error_code: "UNAVAILABLE" };
      sse.send(ending);
      gone.abort(reason);
      sse.close();
    });
    // Events arrive as JSON text: one that cannot be serialised ends the stream with an INTERNAL_ERROR event.
    const send = (event: RunEvent, json: string): void => {
      // An interrupt goes out once its task is stored, with the task's id (below).
      if (event.type === "interrupt") return;
      lastSeq = event.seq;
      sse.sendText(event.type, event.seq, json);
      if (isTerminalEvent(event)) sse.close();
      // A reader that falls this far behind is dropped rather than buffered for without bound.
      else if (res.writableLength > maxBuffered) res.destroy();
    };
    // 3. Run; every outcome, failures included, reaches the client as the terminal event (the service logs failures).
    try {
      await runs.start(graph, input, { transport: "stream", validated: true, controller: gone, requestId, user: req.user, onEventJson: send });
    } catch (error) {
      // Failures were already told: the terminal error event went out through `send`. An interrupt was held back.
      if (error instanceof DefinitionRunError && error.code === "INTERRUPTED" && error.interrupt) {
        const stop = error.interrupt;
        const task = await storeInterruptedRun(ctx, graph, error, { input: req.body, owner: req.user?.sub ?? null, requestId }).catch((failure: unknown) => {
          (req.log ?? ctx.logger).error({ err: failure, request_id: requestId, graph: graph.name }, "could not store an interrupted run");
          return undefined;
        });
        const event: RunEvent = task
            ? { type: "interrupt", seq: lastSeq + 1, ts: Date.now(), node: stop.node, value: stop.value, task_id: task.id }
            : { type: "error", seq: lastSeq + 1, ts: Date.now(), error: "The run was interrupted, but it could not be stored for a resume.", error_code: "UNAVAILABLE" };
        sse.send(event);
      }
    } finally {
      sse.close();
    }
  };
}
