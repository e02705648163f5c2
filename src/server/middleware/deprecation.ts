import type { NextFunction, Request, Response } from "express";
import type { LoadedGraph } from "../../definition/registry.js";

/**
 * `Deprecation` (RFC 9745: `@<epoch seconds>` when a date is known, `true` otherwise) and `Sunset`
 * (RFC 8594, an HTTP date) headers on a deprecated graph's routes; nothing for the others.
 */
export function deprecationHeaders(graph: LoadedGraph) {
  const def = graph.definition;
  if (def.deprecated !== true && def.sunset === undefined) return undefined;
  const sunset = def.sunset === undefined ? undefined : new Date(def.sunset);
  return (_req: Request, res: Response, next: NextFunction): void => {
    res.setHeader("Deprecation", "true");
    if (sunset) res.setHeader("Sunset", sunset.toUTCString());
    next();
  };
}
