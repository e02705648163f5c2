/** Why a request failed authentication: a typed error the HTTP and WebSocket layers turn into 401 (or 503). */

/**
 * Machine reason of an {@link AuthError}. Stable: tests, logs and metrics key on these.
 * - `missing`: no token was sent.
 * - `malformed`: not a compact JWS, an oversized token, or an unusable header (e.g. a `kid` with path characters).
 * - `invalid_signature`: the signature does not verify with the configured key.
 * - `alg_not_allowed`: the header's `alg` is not on the pinned allow-list (`none`, HS/RS confusion…).
 * - `expired`: `exp` is in the past (beyond the clock tolerance).
 * - `not_yet_valid`: `nbf` is in the future (beyond the clock tolerance).
 * - `claim_missing`: a required claim (`sub`, `exp`) is absent.
 * - `claim_invalid`: a claim has the wrong type or value (`iss`, `aud`, a non-string `sub`…).
 * - `unknown_key`: no key of the JWKS matches the token's `kid`/`alg`.
 * - `keys_unavailable`: the JWKS could not be fetched; the server, not the token, is at fault (503).
 */
export type AuthErrorReason =
  | "missing"
  | "malformed"
  | "invalid_signature"
  | "alg_not_allowed"
  | "expired"
  | "not_yet_valid"
  | "claim_missing"
  | "claim_invalid"
  | "unknown_key"
  | "keys_unavailable";

const MESSAGES: Record<AuthErrorReason, string> = {
  missing: "Authentication required: send Authorization: Bearer <token>",
  malformed: "The bearer token is malformed",
  invalid_signature: "The bearer token's signature is invalid",
  alg_not_allowed: "The bearer token's algorithm is not allowed",
  expired: "The bearer token has expired",
  not_yet_valid: "The bearer token is not valid yet",
  claim_missing: "The bearer token lacks a required claim",
  claim_invalid: "The bearer token has an invalid claim",
  unknown_key: "The bearer token was signed with an unknown key",
  keys_unavailable: "The token signing keys are unavailable; try again shortly",
};

/** Options of an {@link AuthError}. */
export interface AuthErrorOptions {
  /** Overrides the default message of the reason (keep it free of token contents). */
  message?: string;
  /** The underlying error (jose's, or a network error), for the log only. */
  cause?: unknown;
}

/**
 * A request could not be authenticated. Carries everything the HTTP layer needs to answer:
 * `status` (401, or 503 for `keys_unavailable`), `errorCode` (`UNAUTHORIZED` / `UNAVAILABLE`) and the
 * `WWW-Authenticate` value (plain `Bearer` when no token was sent, RFC 6750 section 3.1).
 *
 * @example
 * try { identity = await verifier.verify(bearerFrom(req.headers.authorization)) }
 * catch (e) {
 *   if (!AuthError.is(e)) throw e;
 *   res.status(e.status).set("WWW-Authenticate", e.wwwAuthenticate).json({ error: e.message, error_code: e.errorCode });
 * }
 */
export class AuthError extends Error {
  /** Machine reason, see {@link AuthErrorReason}. */
  readonly reason: AuthErrorReason;
  /** HTTP status to answer with. */
  readonly status: 401 | 503;
  /** `error_code` of the HTTP error body (DESIGN.md section 5). */
  readonly errorCode: "UNAUTHORIZED" | "UNAVAILABLE";
  /** Value of the `WWW-Authenticate` response header. */
  readonly wwwAuthenticate: string;

  constructor(reason: AuthErrorReason, options: AuthErrorOptions = {}) {
    super(options.message ?? MESSAGES[reason], options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AuthError";
    this.reason = reason;
    const unavailable = reason === "keys_unavailable";
    this.status = unavailable ? 503 : 401;
    this.errorCode = unavailable ? "UNAVAILABLE" : "UNAUTHORIZED";
    this.wwwAuthenticate = reason === "missing" || unavailable ? "Bearer" : 'Bearer error="invalid_token"';
  }

  /** True for an AuthError, even one from another copy of the package. */
  static is(error: unknown): error is AuthError {
    return error instanceof AuthError || (error instanceof Error && error.name === "AuthError" && "reason" in error);
  }
}
