import type { NextFunction, Request, Response } from "express";
import type { GraphRegistry } from "../../definition/registry.js";
import { routesOf } from "../../definition/routes.js";
import { LimiterUnavailableError, rateLimitHeaders, rateTarget, type RateLimiter, type RateLimitSettings } from "../../security/index.js";
import { HttpError } from "../http-error.js";

/**
 * Rate limits on every limited route: anonymous callers by IP, authenticated ones by `sub` and tier, and a
 * graph's own `rateLimit` (its own counter per caller) on that graph's routes. Every limited response carries
 * `RateLimit-Policy` and `RateLimit`; a refused one is 429 `RATE_LIMITED` with `Retry-After`. When the
 * counter store is down: 503 `UNAVAILABLE`, or pass with `rateLimit.failOpen`.
 */
export function rateLimit(limiter: RateLimiter, settings: RateLimitSettings, registry: GraphRegistry, isLimited: (path: string) => boolean) {
  const graphSpecs = new Map<string, { spec: string; graph: string }>();
  for (const graph of registry.list()) {
    const spec = graph.definition.rateLimit;
    if (!spec) continue;
    for (const route of Object.values(routesOf(graph))) graphSpecs.set(route, { spec, graph: `${graph.name}@${graph.version}` });
  }
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    if (!isLimited(req.path)) {
      next();
      return;
    }
    const target = rateTarget(settings, { ip: req.ip, identity: req.user });
    const own = graphSpecs.get(req.path);
    const key = own ? `${target.key}:graph:${own.graph}` : target.key;
    const spec = own?.spec ?? target.spec;
    const policy = own ? `graph-${own.graph.replace("@", "-v")}` : target.policy;
    let decision;
    try {
      decision = await limiter.consume(key, spec);
    } catch (error) {
      if (!(error instanceof LimiterUnavailableError)) throw error;
      if (limiter.failOpen) {
        req.log?.warn({ err: error }, "rate-limit store unavailable; letting the request through (failOpen)");
        next();
        return;
      }
      throw new HttpError(503, "UNAVAILABLE", "Rate limiting is temporarily unavailable; retry shortly.", { headers: { "Retry-After": "1" }, cause: error });
    }
    for (const [name, value] of Object.entries(rateLimitHeaders(decision, policy))) res.setHeader(name, value);
    if (!decision.allowed) {
      throw new HttpError(429, "RATE_LIMITED", `Rate limit exceeded: ${spec}. Retry after ${decision.retryAfterSec} s.`, { headers: { "Retry-After": String(decision.retryAfterSec) } });
    }
    next();
  };
}
