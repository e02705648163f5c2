import type { NextFunction, Request, Response } from "express";

/**
 * CORS, closed by default: only origins in `origins` (or any, with `"*"`) get `Access-Control-Allow-Origin`;
 * preflights from them are answered 204. Other origins get no CORS headers, so browsers block them.
 */
export function cors(origins: readonly string[]) {
  const any = origins.includes("*");
  const allowed = new Set(origins);
  return (req: Request, res: Response, next: NextFunction): void => {
    const origin = req.headers.origin;
    if (origin === undefined) {
      next();
      return;
    }
    res.vary("Origin");
    if (!any && !allowed.has(origin)) {
      next();
      return;
    }
    res.setHeader("Access-Control-Allow-Origin", any ? "*" : origin);
    res.setHeader("Access-Control-Expose-Headers", "X-Request-ID, RateLimit, RateLimit-Policy, Retry-After, Idempotent-Replayed, Deprecation, Sunset");
    if (req.method === "OPTIONS" && req.headers["access-control-request-method"]) {
      res.setHeader("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS");
      res.setHeader("Access-Control-Allow-Headers", req.headers["access-control-request-headers"] ?? "Content-Type, Authorization, Idempotency-Key, X-Request-ID, Last-Event-ID");
      res.setHeader("Access-Control-Max-Age", "600");
      res.status(204).end();
      return;
    }
    next();
  };
}
