import { AsyncResource } from "node:async_hooks";
import express, { type NextFunction, type Request, type Response } from "express";
import { tracingExported } from "../../tracing/sdk.js";
import { HttpError } from "../http-error.js";
import { exceedsJsonDepth, JsonTooDeepError } from "../json-depth.js";

/**
 * JSON bodies for POST routes: limited to `limit` (413), malformed JSON or JSON nested deeper than `maxDepth`
 * is 400 `INVALID_JSON`, a body of
 * another media type is 415. A POST without a body is `{}` (so graphs whose input is all defaults run).
 */
export function jsonBody(limit: string | number, maxDepth: number) {
  const parse = express.json({
    limit,
    strict: false,
    type: (req) => isJsonType(req.headers["content-type"]),
    // Refused before parsing: a body nested deeper than the limit never reaches a validator or a run.
    verify: (_req, _res, buf, encoding) => {
      const text = encoding === "utf-8" || encoding === "utf8" ? buf : new TextDecoder(encoding).decode(buf);
      if (exceedsJsonDepth(text, maxDepth)) throw new JsonTooDeepError(maxDepth);
    },
  });
  // One middleware (not three): it runs on every graph request.
  return [
    (req: Request, res: Response, next: NextFunction): void => {
      if (hasBody(req) && !isJsonType(req.headers["content-type"])) {
        next(new HttpError(415, "UNSUPPORTED_MEDIA_TYPE", `Send the body as JSON (Content-Type: application/json), not ${req.headers["content-type"] ?? "without a Content-Type"}.`));
        return;
      }
      const done = (error?: unknown) => {
        if (error !== undefined) {
          next(error);
          return;
        }
        if (req.body === undefined) req.body = {};
        next();
      };
      // The body arrives on the socket's own async context: traced, the request's span context is restored.
      parse(req, res, tracingExported() ? AsyncResource.bind(done) : done);
    },
  ];
}

function hasBody(req: Request): boolean {
  const length = req.headers["content-length"];
  return (length !== undefined && length !== "0") || req.headers["transfer-encoding"] !== undefined;
}

function isJsonType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const type = (contentType.split(";")[0] ?? "").trim().toLowerCase();
  return type === "application/json" || (type.startsWith("application/") && type.endsWith("+json"));
}

/** Maps body-parser's errors to the API's codes. */
export function bodyParserError(error: unknown): HttpError | undefined {
  const type = (error as { type?: unknown } | null)?.type;
  if (type === "entity.too.large") return new HttpError(413, "PAYLOAD_TOO_LARGE", "The request body is larger than the server accepts.", { cause: error });
  if (type === "entity.too.deep") return new HttpError(400, "INVALID_JSON", (error as Error).message, { details: { max_depth: (error as JsonTooDeepError).limit }, cause: error });
  if (type === "entity.parse.failed") return new HttpError(400, "INVALID_JSON", `The request body is not valid JSON: ${(error as Error).message}`, { cause: error });
  if (type === "charset.unsupported" || type === "encoding.unsupported") return new HttpError(415, "UNSUPPORTED_MEDIA_TYPE", (error as Error).message, { cause: error });
  if (type === "request.aborted") return new HttpError(400, "INVALID_JSON", "The request body was cut off.", { cause: error });
  return undefined;
}
