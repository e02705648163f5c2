/** Maps jose's verification errors onto {@link AuthError} reasons. */
import { errors } from "jose";
import { AuthError, type AuthErrorReason } from "./auth-error.js";

/**
 * The AuthError for an error thrown while verifying a token, or `undefined` when the error is not a
 * verification outcome (a bug: let it propagate).
 *
 * @example
 * catch (e) { throw toAuthError(e, { remote: false }) ?? e }
 */
export function toAuthError(error: unknown, context: { remote: boolean }): AuthError | undefined {
  if (AuthError.is(error)) return error;
  const reason = reasonOf(error, context);
  return reason === undefined ? undefined : new AuthError(reason, { cause: error });
}

function reasonOf(error: unknown, { remote }: { remote: boolean }): AuthErrorReason | undefined {
  if (error instanceof errors.JWTExpired) return "expired";
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === "missing") return "claim_missing";
    return error.claim === "nbf" && error.reason === "check_failed" ? "not_yet_valid" : "claim_invalid";
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return "alg_not_allowed";
  if (error instanceof errors.JWSSignatureVerificationFailed) return "invalid_signature";
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) return "unknown_key";
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) return "keys_unavailable";
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid || error instanceof errors.JOSENotSupported) return "malformed";
  // A bare JOSEError comes from the JWKS response (non-200, unparsable JSON).
  if (error instanceof errors.JOSEError) return remote ? "keys_unavailable" : "malformed";
  return undefined;
}
