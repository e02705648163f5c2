/**
 * A SERVER span per HTTP request, for when kaygraph exports traces itself (no HTTP instrumentation of the
 * user's): it continues an incoming W3C `traceparent`, and runs the rest of the request in its context so
 * that `kaygraph.run` spans, task submits and log lines belong to it.
 */
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type { NextFunction, Request, Response } from "express";
import { setRequestSpan } from "./log-fields.js";

/**
 * Express middleware: one span `{METHOD} {route}` per request, a child of the caller's `traceparent`.
 *
 * @example
 * if (tracingExported()) app.use(traceRequests());
 */
export function traceRequests() {
  const tracer = trace.getTracer("kaygraph");
  return (req: Request, res: Response, next: NextFunction): void => {
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const span = tracer.startSpan(
      req.method,
      { kind: SpanKind.SERVER, attributes: { "http.request.method": req.method, "url.path": req.path, "kaygraph.request_id": (req as Request & { id?: string }).id ?? "" } },
      parent,
    );
    setRequestSpan(req, span);
    res.once("close", () => {
      const route = (req as Request & { route?: { path?: unknown } }).route?.path;
      if (typeof route === "string") {
        span.updateName(`${req.method} ${req.baseUrl}${route}`);
        span.setAttribute("http.route", `${req.baseUrl}${route}`);
      }
      span.setAttribute("http.response.status_code", res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    context.with(trace.setSpan(parent, span), next);
  };
}
