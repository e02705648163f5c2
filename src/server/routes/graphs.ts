import { Router, type Request, type Response } from "express";
import type { LoadedGraph } from "../../definition/registry.js";
import type { AppContext } from "../context.js";
import { mountGraphPosts, type Mount } from "./graph-post.js";
import { requestIdOf } from "../middleware/request-id.js";
import { clientGone } from "../run-abort.js";
import { DefinitionRunError } from "../../definition/run-errors.js";
import { messageOf } from "../../graph/run-errors.js";
import { publicTask } from "../event-flow.js";
import { checkUrl, storeInterruptedRun } from "../interrupted-run.js";
import { HttpError } from "../http-error.js";
import { jsonText } from "../../graph/json-text.js";
import { UNSERIALISABLE } from "../../runs/public.js";
import { sendJsonText } from "../json-response.js";

/** `POST /api/v{V}/{G}` for every graph version: run through the run service with the request's signal, answer. */
export function graphRoutes<M extends Mount = Router>(ctx: AppContext, router: M = Router() as unknown as M): M {
  return mountGraphPosts(ctx, router, "run", runHandler);
}

function runHandler(ctx: AppContext, graph: LoadedGraph) {
  const runs = ctx.runs;
  return async (req: Request, res: Response): Promise<void> => {
    const requestId = requestIdOf(req);
    const started = performance.now();
    try {
      // Failures reject with a DefinitionRunError; the error handler answers it (publicRunError) and logs it.
      const result = await runs.start(graph, req.body, { transport: "sync", controller: clientGone(res), requestId, user: req.user });
      const body = jsonText({ result, metadata: { request_id: requestId, graph: graph.name, version: graph.version, duration_ms: Math.round((performance.now() - started) * 1000) / 1000 } });
      // A result JSON cannot carry (BigInt, cycle, too deep, a throwing toJSON): 500, the reason in the log.
      if (!body.ok) throw new HttpError(500, "INTERNAL_ERROR", UNSERIALISABLE, { cause: new TypeError(`The result of ${graph.name} v${graph.version} cannot be serialised as JSON (${messageOf(body.error)}).`, { cause: body.error }) });
      sendJsonText(res, 200, body.text);
    } catch (error) {
      if (!(error instanceof DefinitionRunError) || error.code !== "INTERRUPTED") throw error;
      // The run stopped to ask something: it became a durable task, answered 202 like /async.
      const task = await storeInterruptedRun(ctx, graph, error, { input: req.body, owner: req.user?.sub ?? null, requestId });
      const url = checkUrl(task.id);
      res.setHeader("Location", url);
      res.status(202).json({ ...publicTask(task, ctx.debug), check_url: url });
    }
  };
}
