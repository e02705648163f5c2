import http from "node:http";

/** The error codes of the HTTP API: DESIGN.md section 5's catalogue, and nothing else. */
export const ERROR_CODES = [
  "INVALID_JSON",
  "UNAUTHORIZED",
  "FORBIDDEN",
  "NOT_FOUND",
  "METHOD_NOT_ALLOWED",
  "CONFLICT",
  "PAYLOAD_TOO_LARGE",
  "UNSUPPORTED_MEDIA_TYPE",
  "VALIDATION_ERROR",
  "IDEMPOTENCY_MISMATCH",
  "RATE_LIMITED",
  "GRAPH_ERROR",
  "INTERNAL_ERROR",
  "RESOURCE_EXHAUSTED",
  "CHECKPOINT_FAILED",
  "UNAVAILABLE",
  "TIMEOUT",
] as const;

/** One of {@link ERROR_CODES}. */
export type ErrorCode = (typeof ERROR_CODES)[number];

const KNOWN_CODES: ReadonlySet<string> = new Set(ERROR_CODES);

/** True for a code of the catalogue ({@link ERROR_CODES}). */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === "string" && KNOWN_CODES.has(code);
}

/** What a 503 tells the caller to wait (seconds) when the thrower named no `Retry-After` of its own. */
export const RETRY_AFTER_SECONDS = 1;

/** The JSON body of every HTTP error. */
export interface ErrorBody {
  error: string;
  error_code: ErrorCode;
  request_id: string;
  details?: unknown;
}

/**
 * An error the server answers with: status, code, message, optional details and headers. Thrown anywhere in a
 * request; the error handler turns it into the DESIGN error body. A 503 always carries `Retry-After` (the
 * thrower's, else {@link RETRY_AFTER_SECONDS}).
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
    // Every 503 says when to come back (DESIGN section 5): one place, so no 503 can lack it.
    const headers = { ...options.headers };
    if (status === 503 && !Object.keys(headers).some((name) => name.toLowerCase() === "retry-after")) headers["Retry-After"] = String(RETRY_AFTER_SECONDS);
    this.headers = headers;
  }
}

const CODE_OF_STATUS: Readonly<Record<number, ErrorCode>> = {
  400: "INVALID_JSON",
  401: "UNAUTHORIZED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  405: "METHOD_NOT_ALLOWED",
  409: "CONFLICT",
  413: "PAYLOAD_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
  422: "VALIDATION_ERROR",
  429: "RATE_LIMITED",
  503: "UNAVAILABLE",
  504: "TIMEOUT",
};

/**
 * A hook's refusal as an HttpError: an HttpError as it is; any error with a numeric 4xx/5xx `status` (an
 * `AuthError`, a limiter's refusal) with its `code`/`errorCode` when that is a code of the catalogue (an
 * unknown code never reaches the caller: the status's own code is used instead, else `FORBIDDEN` for a 4xx and
 * `INTERNAL_ERROR` for a 5xx), its `headers` and `wwwAuthenticate`; undefined for anything else (a bug: the
 * caller answers 500 and logs it). The one place that reads such errors, for HTTP upgrades and WebSocket
 * messages alike.
 *
 * @example
 * const refusal = refusalOf(error) ?? new HttpError(500, "INTERNAL_ERROR", "…");
 */
export function refusalOf(error: unknown): HttpError | undefined {
  if (error instanceof HttpError) return error;
  const e = (error ?? {}) as { status?: unknown; code?: unknown; errorCode?: unknown; message?: unknown; headers?: unknown; wwwAuthenticate?: unknown };
  if (typeof e.status !== "number" || !Number.isInteger(e.status) || e.status < 400 || e.status > 599) return undefined;
  const code = [e.code, e.errorCode].find(isErrorCode) ?? defaultCodeOf(e.status);
  const headers: Record<string, string> = {};
  if (typeof e.headers === "object" && e.headers !== null) for (const [k, v] of Object.entries(e.headers)) if (typeof v === "string" && /^[A-Za-z0-9-]+$/.test(k)) headers[k] = v;
  if (typeof e.wwwAuthenticate === "string") headers["WWW-Authenticate"] = e.wwwAuthenticate;
  return new HttpError(e.status, code, typeof e.message === "string" && e.message ? e.message : (http.STATUS_CODES[e.status] ?? "Refused"), { headers });
}

/** The catalogue's code for a status (a refusal that named none, or an unknown one). */
export function defaultCodeOf(status: number): ErrorCode {
  return CODE_OF_STATUS[status] ?? (status >= 500 ? "INTERNAL_ERROR" : "FORBIDDEN");
}
