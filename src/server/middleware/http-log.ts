import type { Request, Response } from "express";
import type { Logger } from "pino";
import { redactUrl } from "../secret-query.js";
import { requestIdOf } from "./request-id.js";
import { requestTraceFields } from "../../tracing/log-fields.js";

/** The route pattern that matched (for logs and metric labels), or `unmatched`. */
export function routeOf(req: Request): string {
  const route = (req as Request & { route?: { path?: unknown } }).route?.path;
  return typeof route === "string" ? `${req.baseUrl}${route}` : "unmatched";
}

/**
 * Gives every request of an app `req.log`: a child logger bound to the request id, created on first use
 * (most requests never log anything but their one line, and child loggers are not free). Defined once on the
 * app's request prototype, not per request, so request objects keep their shape.
 */
export function installRequestLogger(requestPrototype: object, logger: Logger): void {
  const cache = new WeakMap<object, Logger>();
  Object.defineProperty(requestPrototype, "log", {
    configurable: true,
    enumerable: false,
    get(this: Request): Logger {
      let child = cache.get(this);
      if (!child) cache.set(this, (child = logger.child({ request_id: requestIdOf(this) })));
      return child;
    },
  });
}

/**
 * Writes the one structured line of a finished request: request id, method, url, route, status, duration.
 * Headers are not logged and secret query parameters are redacted, so tokens never reach the log. Level: error for 5xx, warn for 4xx, info otherwise.
 */
export function logRequest(logger: Logger, req: Request, res: Response, durationMs: number): void {
  const status = res.statusCode;
  const level = status >= 500 ? "error" : status >= 400 ? "warn" : "info";
  if (!logger.isLevelEnabled(level)) return;
  const url = redactUrl(req.originalUrl);
  logger[level](
    { request_id: requestIdOf(req), ...requestTraceFields(req), method: req.method, url, route: routeOf(req), status, duration_ms: Math.round(durationMs * 1000) / 1000, ...(res.writableFinished ? {} : { aborted: true }) },
    `${req.method} ${url} ${status}`,
  );
}
