import { Router, type Request, type Response } from "express";
import type { LoadedGraph } from "../../definition/registry.js";
import { runDefinition } from "../../definition/run.js";
import { DefinitionRunError } from "../../definition/run-errors.js";
import { runTimeout, type AppContext } from "../context.js";
import { mountGraphPosts } from "./graph-post.js";
import { requestIdOf } from "../middleware/request-id.js";
import { clientGone } from "../run-abort.js";

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
