import type { NextFunction, Request, Response } from "express";
import type { GraphRegistry } from "../../definition/registry.js";
import { graphRouteKey, routesOf } from "../../definition/routes.js";
import { LimiterUnavailableError } from "../../security/rate-limit/decision.js";
import { rateLimitHeaders } from "../../security/rate-limit/headers.js";
import type { RateLimiter, RateLimitSettings } from "../../security/rate-limit/limiter.js";
import { rateTarget } from "../../security/rate-limit/target.js";
import { HttpError } from "../http-error.js";

/**
 * Rate limits on every limited route: anonymous callers by IP, authenticated ones by `sub` and tier, and a
 * graph's own `rateLimit` (its own counter per caller) on that graph's routes. Every limited response carries
 * `RateLimit-Policy` and `RateLimit`; a refused one is 429 `RATE_LIMITED` with `Retry-After`. When the
 * counter store is down: 503 `UNAVAILABLE`, or pass with `rateLimit.failOpen`.
 */
export function rateLimit(limiter: RateLimiter, settings: RateLimitSettings, registry: GraphRegistry, isLimited: (path: string) => boolean) {
  const graphSpecs = new Map<string, GraphLimit>();
  for (const graph of registry.list()) {
    const spec = graph.definition.rateLimit;
    if (!spec) continue;
    for (const route of Object.values(routesOf(graph))) graphSpecs.set(graphRouteKey(route), { spec, name: graph.name, version: graph.version });
  }
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    if (!isLimited(req.path)) {
      next();
      return;
    }
    const own = graphSpecs.get(graphRouteKey(req.path));
    const headers = await enforceLimit(limiter, settings, { ip: req.ip, identity: req.user }, own, (error) =>
      req.log?.warn({ err: error }, "rate-limit store unavailable; letting the request through (failOpen)"),
    );
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    next();
  };
}

/** A graph's own `rateLimit`: its own counter per caller, under the policy `graph-<name>-v<version>`. */
export interface GraphLimit {
  name: string;
  version: number;
  spec: string;
}

/**
 * Counts one request (HTTP) or one connection or message (WebSocket) of `caller` — against `graph`'s own
 * limit when given, else the caller's tier or the anonymous limit — and answers the RateLimit headers to
 * send. Over the limit: 429 `RATE_LIMITED` (with `RateLimit-Policy`, `RateLimit`, `Retry-After`). Store down:
 * 503 `UNAVAILABLE`, or, with `failOpen`, no headers after telling `onFailOpen`.
 */
export async function enforceLimit(
  limiter: RateLimiter,
  settings: RateLimitSettings,
  caller: { ip?: string | undefined; identity?: { sub: string; tier: string } | undefined },
  graph: GraphLimit | undefined,
  onFailOpen: (error: unknown) => void = () => undefined,
): Promise<Record<string, string>> {
  const target = rateTarget(settings, caller);
  const key = graph ? `${target.key}:graph:${graph.name}@${graph.version}` : target.key;
  const spec = graph?.spec ?? target.spec;
  let decision;
  try {
    decision = await limiter.consume(key, spec);
  } catch (error) {
    if (!(error instanceof LimiterUnavailableError)) throw error;
    if (limiter.failOpen) {
      onFailOpen(error);
      return {};
    }
    throw new HttpError(503, "UNAVAILABLE", "Rate limiting is temporarily unavailable; retry shortly.", { headers: { "Retry-After": "1" }, cause: error });
  }
  const headers = rateLimitHeaders(decision, graph ? `graph-${graph.name}-v${graph.version}` : target.policy);
  if (!decision.allowed) throw new HttpError(429, "RATE_LIMITED", `Rate limit exceeded: ${spec}. Retry after ${decision.retryAfterSec} s.`, { headers });
  return headers;
}
