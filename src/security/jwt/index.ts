/** JWT auth core: verifier, token minting, bearer parsing and the typed auth error. */
export { AuthError } from "./auth-error.js";
export type { AuthErrorReason, AuthErrorOptions } from "./auth-error.js";
export { bearerFrom, bearerFromProtocols, tokenFromUpgrade } from "./bearer.js";
export type { HeaderValue, UpgradeToken } from "./bearer.js";
export { createTokenVerifier, DEFAULT_TIER, MAX_TOKEN_LENGTH } from "./verifier.js";
export type { Identity, TokenVerifier, TokenVerifierOptions } from "./verifier.js";
export { MIN_SECRET_BYTES, secretKey } from "./key-set.js";
export type { AuthSettings, JwksOptions } from "./key-set.js";
export { signToken, parseExpiresIn } from "./sign.js";
export type { TokenClaims } from "./sign.js";
export { withVerificationCache, type VerificationCacheOptions } from "./verification-cache.js";
