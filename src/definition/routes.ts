import type { LoadedGraph } from "./registry.js";

/** The HTTP routes of one graph version (DESIGN.md section 5). */
export interface GraphRoutes {
  run: string;
  async: string;
  stream: string;
}

/** `/api/v{V}/{G}` and its `/async` and `/stream` siblings. */
export function routesOf(graph: Pick<LoadedGraph, "name" | "version">): GraphRoutes {
  const run = `/api/v${graph.version}/${graph.name}`;
  return { run, async: `${run}/async`, stream: `${run}/stream` };
}

/**
 * The key a graph route is found by: its path as Express matches routes by default — case-insensitive, with
 * or without one trailing slash. Whatever looks a graph route up by path (rate limits, public routes) uses it,
 * so `/api/v1/Echo/` meets the same limits as `/api/v1/echo`.
 *
 * @example
 * graphRouteKey("/api/v1/Echo/"); // "/api/v1/echo"
 */
export function graphRouteKey(path: string): string {
  const trimmed = path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
  return trimmed.toLowerCase();
}
