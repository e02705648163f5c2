import type { ResolvedConfig } from "../config/schema.js";
import type { GraphRegistry } from "../definition/registry.js";
import { graphRouteKey, routesOf } from "../definition/routes.js";

/** Paths of the service itself: never rate limited, and (but `/metrics`) public without a token. */
const SERVICE_PATHS = new Set(["/health", "/ready", "/openapi.json", "/docs", "/docs/init.js", "/metrics"]);

/** Which paths need a token and which are rate limited. */
export interface RouteAccess {
  isPublic(path: string): boolean;
  isLimited(path: string): boolean;
}

/** Paths of the API itself; with a static folder, every other path is a page or asset. */
const API_PATH = /^\/(api|tasks|metrics|ws|_kaygraph)(\/|$)/;

/**
 * Public without a token: `/health`, `/ready`, `/docs` (and its assets), `/openapi.json`, the routes of graphs
 * defined with `public: true`, `/metrics` when `server.publicMetrics` is set, and — with `server.static` —
 * every path outside the API (pages and their assets; browsers send no token for those). Rate limited:
 * everything except the service paths and static files.
 */
export function routeAccess(config: ResolvedConfig, registry: GraphRegistry): RouteAccess {
  const publicGraphRoutes = new Set<string>();
  for (const graph of registry.list()) if (graph.definition.public === true) for (const route of Object.values(routesOf(graph))) publicGraphRoutes.add(graphRouteKey(route));
  // The studio's page and scripts hold no data (its data comes from the API with the caller's token).
  const isStudioAsset = (path: string) => config.server.studio && (path === "/_kaygraph" || path === "/_kaygraph/" || path.startsWith("/_kaygraph/assets/"));
  const isService = (path: string) => SERVICE_PATHS.has(path) || path.startsWith("/docs/") || isStudioAsset(path);
  const isStatic = (path: string) => config.server.static !== undefined && !API_PATH.test(path) && !isService(path);
  return {
    isPublic: (path) => (path === "/metrics" ? config.server.publicMetrics : isService(path) || publicGraphRoutes.has(graphRouteKey(path)) || isStatic(path)),
    isLimited: (path) => !isService(path) && !isStatic(path),
  };
}
