import type { NextFunction, Request, Response } from "express";
// Leaf modules, not the security index: it would load jose and ioredis into every server (see guard.ts).
import { AuthError } from "../../security/jwt/auth-error.js";
import { bearerFrom } from "../../security/jwt/bearer.js";
import type { TokenVerifier } from "../../security/jwt/verifier.js";
import { clientKey } from "../../security/rate-limit/client-key.js";
import { LimiterUnavailableError } from "../../security/rate-limit/decision.js";
import { rateLimitHeaders } from "../../security/rate-limit/headers.js";
import type { RateLimiter } from "../../security/rate-limit/limiter.js";
import { ANONYMOUS_POLICY } from "../../security/rate-limit/target.js";
import { HttpError } from "../http-error.js";

/**
 * JWT auth for every route that is not public. A request without a token to a protected route, or with a bad
 * token anywhere, is 401 `UNAUTHORIZED` with `WWW-Authenticate: Bearer` (plus `error="invalid_token"` when a
 * token was sent); failed attempts count against the caller's IP limit when limits are on (over it: 429).
 * A valid token sets `req.user`, which reaches the graph as `ctx.user`.
 */
export function authenticate(verifier: TokenVerifier, isPublic: (path: string) => boolean, limiter?: RateLimiter, anonymousSpec?: string) {
  return async (req: Request, _res: Response, next: NextFunction): Promise<void> => {
    const token = bearerFrom(req.headers.authorization);
    if (token === undefined && isPublic(req.path)) {
      next();
      return;
    }
    try {
      const identity = await verifier.verify(token);
      req.user = { sub: identity.sub, tier: identity.tier, claims: identity.claims as Record<string, unknown> };
      next();
    } catch (error) {
      if (!AuthError.is(error)) throw error;
      if (limiter && anonymousSpec) await countFailedAuth(limiter, req.ip, anonymousSpec);
      throw new HttpError(error.status, error.errorCode, error.message, { headers: { "WWW-Authenticate": error.wwwAuthenticate }, cause: error });
    }
  };
}

/**
 * Counts a failed authentication against the caller's IP (`spec`: the anonymous limit), over HTTP and at a
 * WebSocket upgrade alike. Past the limit it throws 429 `RATE_LIMITED` with `RateLimit-Policy`, `RateLimit`
 * and `Retry-After`, as every other 429; a limiter store outage is ignored, since the caller is refused anyway.
 *
 * @example
 * await countFailedAuth(limiter, req.ip, config.rateLimit.anonymous); // then throw the 401
 */
export async function countFailedAuth(limiter: RateLimiter, ip: string | undefined, spec: string): Promise<void> {
  let decision;
  try {
    decision = await limiter.consume(clientKey(ip), spec);
  } catch (error) {
    // The limiter store being down must not turn a 401 into a 503 here.
    if (error instanceof LimiterUnavailableError) return;
    throw error;
  }
  if (!decision.allowed) {
    throw new HttpError(429, "RATE_LIMITED", `Too many failed authentication attempts from this address; retry after ${decision.retryAfterSec} s.`, {
      headers: rateLimitHeaders(decision, ANONYMOUS_POLICY),
    });
  }
}
