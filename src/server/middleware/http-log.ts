import type { Request, Response } from "express";
import type { Logger } from "pino";
import { pinoHttp } from "pino-http";
import { requestIdOf } from "./request-id.js";

/** The route pattern that matched (for logs and metric labels), or `unmatched`. */
export function routeOf(req: Request): string {
  const route = (req as Request & { route?: { path?: unknown } }).route?.path;
  return typeof route === "string" ? `${req.baseUrl}${route}` : "unmatched";
}

/** The URL with a `token` query parameter (WebSocket auth) redacted. */
export function safeUrl(url: string): string {
  return url.replace(/([?&]token=)[^&]*/gi, "$1[redacted]");
}

/** The fields of the one line logged per request. */
function line(req: Request, res: Response, responseTime: unknown) {
  // request_id comes from the request's child logger binding.
  return {
    method: req.method,
    url: safeUrl(req.originalUrl),
    route: routeOf(req),
    status: res.statusCode,
    duration_ms: typeof responseTime === "number" ? responseTime : undefined,
  };
}

/**
 * One structured log line per request: request id, method, url, route, status, duration. `req.log` is a
 * child logger carrying the request id, so every line a request logs can be found by it. Headers are not
 * logged, so tokens never reach the log.
 */
export function httpLog(logger: Logger) {
  return pinoHttp({
    logger,
    genReqId: (req) => requestIdOf(req as Request),
    quietReqLogger: true,
    // The line below carries what we log; drop pino-http's full request/response dumps (and their headers).
    serializers: { req: () => undefined, res: () => undefined },
    wrapSerializers: false,
    customAttributeKeys: { reqId: "request_id" },
    customSuccessObject: (req, res, val: { responseTime?: unknown }) => line(req as Request, res as Response, val.responseTime),
    customErrorObject: (req, res, _error, val: { responseTime?: unknown }) => line(req as Request, res as Response, val.responseTime),
    customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? "error" : res.statusCode >= 400 ? "warn" : "info"),
    customSuccessMessage: (req, res) => `${req.method} ${safeUrl((req as Request).originalUrl)} ${res.statusCode}`,
    customErrorMessage: (req, res) => `${req.method} ${safeUrl((req as Request).originalUrl)} ${res.statusCode}`,
  });
}
