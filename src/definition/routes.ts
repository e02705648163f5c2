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
