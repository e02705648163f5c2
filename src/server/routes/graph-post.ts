import type { NextFunction, Request, RequestHandler, Response } from "express";
import type { LoadedGraph } from "../../definition/registry.js";
import { graphRouteKey, routesOf, type GraphRoutes } from "../../definition/routes.js";
import type { AppContext } from "../context.js";
import { jsonBody } from "../middleware/body.js";
import { deprecationHeaders } from "../middleware/deprecation.js";
import { methodNotAllowed } from "../middleware/errors.js";

/** What graph routes mount on: an Express app or router. */
export interface Mount {
  use(handler: RequestHandler): unknown;
}

/** A mounted graph route: what `req.route` shows (its pattern, for logs and metric labels) and its handlers. */
interface GraphPost {
  route: { path: string };
  chain: RequestHandler[];
}

/** The graph routes mounted on each app or router, by {@link graphRouteKey}. */
const tables = new WeakMap<Mount, Map<string, GraphPost>>();

/**
 * Mounts `POST <route>` of one kind (`run`, `async`, `stream`) for every graph version: deprecation headers,
 * the JSON body, then the handler; any other method answers 405 with `Allow: POST`. Every graph route of a
 * mount is found by one Map look-up in one middleware (the first route of a path wins, as in Express),
 * instead of the router trying each route's pattern in turn.
 */
export function mountGraphPosts<M extends Mount>(ctx: AppContext, mount: M, kind: keyof GraphRoutes, handler: (ctx: AppContext, graph: LoadedGraph) => (req: Request, res: Response) => Promise<void>): M {
  let table = tables.get(mount);
  if (table === undefined) {
    table = new Map();
    tables.set(mount, table);
    mount.use(dispatch(table));
  }
  const body = jsonBody(ctx.config.server.bodyLimit, ctx.config.server.maxJsonDepth);
  for (const graph of ctx.registry.list()) {
    const path = routesOf(graph)[kind];
    const key = graphRouteKey(path);
    if (table.has(key)) continue;
    table.set(key, { route: { path }, chain: [deprecationHeaders(graph), ...body, handler(ctx, graph)].filter((m) => m !== undefined) });
  }
  return mount;
}

const notPost = methodNotAllowed(["POST"]);

/** Runs the chain of the graph route at the request's path, if there is one; other requests pass on. */
function dispatch(table: Map<string, GraphPost>): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    const post = table.get(graphRouteKey(req.path));
    if (post === undefined) return next();
    (req as Request & { route: { path: string } }).route = post.route;
    if (req.method !== "POST") return notPost(req, res, next);
    const chain = post.chain;
    let i = 0;
    // Like an Express route: each step calls the next; an error (thrown, rejected, or passed) goes to `next`.
    const step = (error?: unknown): void => {
      if (error !== undefined && error !== null) return next(error);
      const handle = chain[i++];
      if (handle === undefined) return next();
      try {
        const out = handle(req, res, step) as unknown;
        if (out instanceof Promise) out.then(undefined, (reason: unknown) => next(reason ?? new Error("Rejected promise")));
      } catch (thrown) {
        next(thrown);
      }
    };
    step();
  };
}
