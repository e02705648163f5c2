import type { Request, RequestHandler, Response, Router } from "express";
import type { LoadedGraph } from "../../definition/registry.js";
import { routesOf, type GraphRoutes } from "../../definition/routes.js";
import type { AppContext } from "../context.js";
import { jsonBody } from "../middleware/body.js";
import { deprecationHeaders } from "../middleware/deprecation.js";
import { methodNotAllowed } from "../middleware/errors.js";

/**
 * Mounts `POST <route>` of one kind (`run`, `async`, `stream`) for every graph version: deprecation headers,
 * the JSON body, then the handler; any other method answers 405 with `Allow: POST`.
 */
export function mountGraphPosts(ctx: AppContext, router: Router, kind: keyof GraphRoutes, handler: (ctx: AppContext, graph: LoadedGraph) => (req: Request, res: Response) => Promise<void>): Router {
  const body = jsonBody(ctx.config.server.bodyLimit, ctx.config.server.maxJsonDepth);
  for (const graph of ctx.registry.list()) {
    const pre: RequestHandler[] = [deprecationHeaders(graph)].filter((m) => m !== undefined);
    router.route(routesOf(graph)[kind]).post(...pre, ...body, handler(ctx, graph)).all(methodNotAllowed(["POST"]));
  }
  return router;
}
