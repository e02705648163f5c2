import type { NextFunction, Request, Response } from "express";
import type { AppContext } from "../context.js";
import { abortRunOf } from "../run-abort.js";
import { logRequest, routeOf } from "./http-log.js";
import { pickRequestId } from "./request-id.js";

/**
 * The first middleware of every request, in one step because it runs on every request: picks the request id
 * (echoed in `X-Request-ID`), sets the security headers, asks keep-alive clients to reconnect while the
 * server drains, and when the response ends writes the request's log line and HTTP metric.
 */
export function requestContext(ctx: AppContext, securityHeaders: Record<string, string>) {
  const headerEntries = Object.entries(securityHeaders);
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = performance.now();
    const id = pickRequestId(req.headers["x-request-id"] as string | undefined);
    (req as Request & { id?: string }).id = id;
    res.setHeader("X-Request-ID", id);
    for (const [name, value] of headerEntries) res.setHeader(name, value);
    if (ctx.state.phase === "draining") res.setHeader("Connection", "close");
    res.once("close", () => {
      if (!res.writableFinished) abortRunOf(res)?.(new Error("The client disconnected"));
      const seconds = (performance.now() - started) / 1000;
      ctx.metrics.observeHttp(req.method, routeOf(req), res.statusCode, seconds);
      logRequest(ctx.logger, req, res, seconds * 1000);
    });
    next();
  };
}
