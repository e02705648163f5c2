import http from "node:http";

/** The error codes of the HTTP API (DESIGN.md section 5). */
export type ErrorCode =
  | "INVALID_JSON"
  | "BAD_REQUEST"
  | "UNAUTHORIZED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "METHOD_NOT_ALLOWED"
  | "CONFLICT"
  | "PAYLOAD_TOO_LARGE"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "VALIDATION_ERROR"
  | "IDEMPOTENCY_MISMATCH"
  | "RATE_LIMITED"
  | "GRAPH_ERROR"
  | "INTERNAL_ERROR"
  | "RESOURCE_EXHAUSTED"
  | "CHECKPOINT_FAILED"
  | "UNAVAILABLE"
  | "TIMEOUT";

/** The JSON body of every HTTP error. */
export interface ErrorBody {
  error: string;
  error_code: ErrorCode;
  request_id: string;
  details?: unknown;
}

/**
 * An error the server answers with: status, code, message, optional details and headers. Thrown anywhere in a
 * request; the error handler turns it into the DESIGN error body.
 *
 * @example
 * throw new HttpError(404, "NOT_FOUND", "No task abc");
 */
export class HttpError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  readonly details: unknown;
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, code: ErrorCode, message: string, options: { details?: unknown; headers?: Record<string, string>; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "HttpError";
    this.status = status;
    this.code = code;
    this.details = options.details;
    this.headers = options.headers ?? {};
  }
}

const CODE_OF_STATUS: Readonly<Record<number, ErrorCode>> = { 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND", 429: "RATE_LIMITED", 503: "UNAVAILABLE" };

/**
 * A hook's refusal as an HttpError: an HttpError as it is; any error with a numeric 4xx/5xx `status` (an
 * `AuthError`, a limiter's refusal) with its `code`/`errorCode` (else one derived from the status), its
 * `headers` and `wwwAuthenticate`; undefined for anything else (a bug: the caller answers 500 and logs it).
 * The one place that reads such errors, for HTTP upgrades and WebSocket messages alike.
 *
 * @example
 * const refusal = refusalOf(error) ?? new HttpError(500, "INTERNAL_ERROR", "…");
 */
export function refusalOf(error: unknown): HttpError | undefined {
  if (error instanceof HttpError) return error;
  const e = (error ?? {}) as { status?: unknown; code?: unknown; errorCode?: unknown; message?: unknown; headers?: unknown; wwwAuthenticate?: unknown };
  if (typeof e.status !== "number" || e.status < 400 || e.status > 599) return undefined;
  const code = [e.code, e.errorCode].find((c): c is ErrorCode => typeof c === "string" && /^[A-Z_]+$/.test(c)) ?? CODE_OF_STATUS[e.status] ?? (e.status >= 500 ? "INTERNAL_ERROR" : "FORBIDDEN");
  const headers: Record<string, string> = {};
  if (typeof e.headers === "object" && e.headers !== null) for (const [k, v] of Object.entries(e.headers)) if (typeof v === "string" && /^[A-Za-z0-9-]+$/.test(k)) headers[k] = v;
  if (typeof e.wwwAuthenticate === "string") headers["WWW-Authenticate"] = e.wwwAuthenticate;
  return new HttpError(e.status, code, typeof e.message === "string" && e.message ? e.message : (http.STATUS_CODES[e.status] ?? "Refused"), { headers });
}
