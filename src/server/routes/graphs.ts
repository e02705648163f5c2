import { Router, type Request, type Response } from "express";
import type { LoadedGraph } from "../../definition/registry.js";
import { runDefinition } from "../../definition/run.js";
import { DefinitionRunError } from "../../definition/run-errors.js";
import { runTimeout, type AppContext } from "../context.js";
import { mountGraphPosts } from "./graph-post.js";
import { requestIdOf } from "../middleware/request-id.js";

/**
 * An AbortController aborted when the client goes away before the response is sent (the request-context
 * middleware's own close listener fires it: one listener per response instead of two), or when the server's
 * drain deadline comes before the run ends (see {@link abortRunOf}).
 */
export function clientGone(res: Response): AbortController {
  const controller = new AbortController();
  (res.locals as RunLocals).abortRun = (reason) => controller.abort(reason);
  return controller;
}

interface RunLocals {
  abortRun?: (reason: Error) => void;
}

/** The function that aborts the run answering `res`, if a run answers it. */
export function abortRunOf(res: object): ((reason: Error) => void) | undefined {
  return ((res as { locals?: RunLocals }).locals)?.abortRun;
}

/** `POST /api/v{V}/{G}` for every graph version: validate, run with the request's signal, answer. */
export function graphRoutes(ctx: AppContext, router: Router = Router()): Router {
  return mountGraphPosts(ctx, router, "run", runHandler);
}

function runHandler(ctx: AppContext, graph: LoadedGraph) {
  const meter = ctx.metrics.runMeter(graph, "sync");
  return async (req: Request, res: Response): Promise<void> => {
    const requestId = requestIdOf(req);
    const started = meter.begin();
    let outcome = "error";
    try {
      const result = await runDefinition(graph, req.body, {
        controller: clientGone(res),
        requestId,
        timeoutMs: runTimeout(ctx, graph),
        user: req.user,
        onEvent: meter.onEvent,
      });
      outcome = "completed";
      res.json({ result, metadata: { request_id: requestId, graph: graph.name, version: graph.version, duration_ms: Math.round((performance.now() - started) * 1000) / 1000 } });
    } catch (error) {
      if (error instanceof DefinitionRunError) outcome = error.code.toLowerCase();
      throw error;
    } finally {
      meter.end(started, outcome);
    }
  };
}
