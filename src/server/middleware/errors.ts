import type { NextFunction, Request, Response } from "express";
import type { Logger } from "pino";
import { DefinitionRunError } from "../../definition/run-errors.js";
import { publicRunError } from "../../runs/public.js";
import { StoreUnavailableError } from "../../tasks/store-health.js";
import { HttpError, type ErrorBody } from "../http-error.js";
import { bodyParserError } from "./body.js";
import { requestIdOf } from "./request-id.js";

/** Answers 405 with `Allow` for a known path asked with another method. */
export function methodNotAllowed(allow: readonly string[]) {
  const header = [...new Set([...allow, ...(allow.includes("GET") ? ["HEAD"] : [])])].join(", ");
  return (req: Request, _res: Response, next: NextFunction): void => {
    next(new HttpError(405, "METHOD_NOT_ALLOWED", `${req.method} is not allowed on ${req.path}; use ${allow.join(" or ")}.`, { headers: { Allow: header } }));
  };
}

/** The last route: 404 for every path nothing else answered. */
export function notFound() {
  return (req: Request, _res: Response, next: NextFunction): void => {
    next(new HttpError(404, "NOT_FOUND", `No route ${req.method} ${req.path}. See /docs for the API.`));
  };
}

/** Turns any error into an HttpError: run errors, body-parser errors, and everything else as a 500. */
export function toHttpError(error: unknown, debug: boolean): HttpError {
  if (error instanceof HttpError) return error;
  const parsed = bodyParserError(error);
  if (parsed) return parsed;
  // The router decodes path parameters and throws URIError on malformed percent-encoding (`/tasks/%ZZ`).
  if (error instanceof URIError) return new HttpError(400, "BAD_REQUEST", "The request path is not valid percent-encoding (a % must be followed by two hex digits of UTF-8).", { cause: error });
  // A store is down (or this call found it so): 503 naming the store, retry shortly.
  if (error instanceof StoreUnavailableError) return new HttpError(503, "UNAVAILABLE", error.message, { details: { store: error.store, backend: error.backend }, headers: { ...error.headers }, cause: error });
  if (error instanceof DefinitionRunError) {
    // The run service's one mapping (GRAPH_ERROR messages are shown only in debug/dev).
    const answer = publicRunError(error, debug);
    return new HttpError(answer.status, answer.code, answer.message, { details: answer.details, cause: error });
  }
  return new HttpError(500, "INTERNAL_ERROR", "Internal server error; the server log has the details under this request id.", { cause: error });
}

/**
 * The last middleware: answers every error with the DESIGN error body. A 5xx body never carries a stack or
 * a path; the error is logged once here with the request id.
 */
export function errorHandler(logger: Logger, debug: boolean) {
  return (error: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const http = toHttpError(error, debug);
    const id = requestIdOf(req);
    if (http.status >= 500) {
      const cause = http.cause ?? error;
      (req.log ?? logger).error({ err: cause instanceof Error && (cause as Error).cause instanceof Error ? (cause as Error).cause : cause, request_id: id, error_code: http.code }, http.message);
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    for (const [name, value] of Object.entries(http.headers)) res.setHeader(name, value);
    const body: ErrorBody = { error: http.message, error_code: http.code, request_id: id };
    if (http.details !== undefined) body.details = http.details;
    res.status(http.status).json(body);
  };
}
