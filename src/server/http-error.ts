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
