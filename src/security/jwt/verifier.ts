/** Verifies bearer tokens against the configured keys and turns them into an {@link Identity}. */
import { decodeProtectedHeader, jwtVerify, type JWTPayload, type JWTVerifyOptions } from "jose";
import { AuthError } from "./auth-error.js";
import { toAuthError } from "./classify.js";
import { resolveKeySet, type AuthSettings, type JwksOptions } from "./key-set.js";

/** Who a verified token speaks for. */
export interface Identity {
  /** The `sub` claim. */
  readonly sub: string;
  /** The `tier` claim (picks the rate limit), `"free"` when absent. */
  readonly tier: string;
  /** Every claim of the token. */
  readonly claims: JWTPayload;
}

/** A verifier built once at boot and shared by every request. */
export interface TokenVerifier {
  /**
   * Verifies a compact JWS and returns its identity; rejects with an {@link AuthError} (reason `missing` when
   * `token` is undefined or empty).
   */
  verify(token: string | undefined): Promise<Identity>;
  /** The pinned algorithm allow-list. */
  readonly algorithms: readonly string[];
}

/** Options of {@link createTokenVerifier}. */
export interface TokenVerifierOptions {
  /** JWKS fetching and caching, when `auth.jwksUrl` is set. */
  jwks?: JwksOptions;
}

/** Longest token accepted (bytes of text); larger ones are refused before any parsing. */
export const MAX_TOKEN_LENGTH = 8192;

/** Default tier of a token without a `tier` claim. */
export const DEFAULT_TIER = "free";

// A `kid` is only ever compared with the JWKS entries, never used as a path or URL; still, refuse ids that
// look like paths or carry control characters, so such a token cannot even trigger a JWKS refetch.
const SAFE_KID = /^[\x21-\x7e]{1,256}$/;

/**
 * Builds the verifier of the `auth` settings (call it when `auth.mode` is `"jwt"`; the mode itself is not
 * consulted), validating them at boot (missing secret/key →
 * `KG_AUTH_SECRET_MISSING`, short secret → `KG_AUTH_SECRET_WEAK`, bad PEM/JWK/JWKS URL/algorithms →
 * `KG_AUTH_KEY_INVALID`). `sub` and `exp` are required, `iss`/`aud` checked when configured, `jku`, `x5u`,
 * `x5c` and embedded `jwk` headers are never honoured (keys come from the settings only).
 *
 * @example
 * const verifier = await createTokenVerifier(config.auth);
 * const { sub, tier } = await verifier.verify(bearerFrom(req.headers.authorization));
 */
export async function createTokenVerifier(auth: AuthSettings, options: TokenVerifierOptions = {}): Promise<TokenVerifier> {
  const keys = resolveKeySet(auth, options.jwks);
  const verifyOptions: JWTVerifyOptions = {
    algorithms: keys.algorithms,
    requiredClaims: ["sub", "exp"],
    clockTolerance: auth.clockTolerance,
    ...(auth.issuer === undefined ? {} : { issuer: auth.issuer }),
    ...(auth.audience === undefined ? {} : { audience: auth.audience }),
  };

  async function verify(token: string | undefined): Promise<Identity> {
    if (!token) throw new AuthError("missing");
    if (token.length > MAX_TOKEN_LENGTH) throw new AuthError("malformed", { message: "The bearer token is too long" });
    try {
      checkHeader(token);
      const { payload } = await jwtVerify(token, keys.getKey, verifyOptions);
      return toIdentity(payload);
    } catch (error) {
      throw toAuthError(error, keys) ?? error;
    }
  }

  return Object.freeze({ verify, algorithms: Object.freeze([...keys.algorithms]) });
}

function checkHeader(token: string): void {
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch (cause) {
    // jose reports an undecodable header as a TypeError: for us it is just a malformed token.
    throw new AuthError("malformed", { cause });
  }
  if (header.kid !== undefined && (typeof header.kid !== "string" || !SAFE_KID.test(header.kid) || header.kid.includes(".."))) {
    throw new AuthError("malformed", { message: 'The bearer token has an unusable "kid" header' });
  }
}

function toIdentity(payload: JWTPayload): Identity {
  if (typeof payload.sub !== "string" || payload.sub.length === 0) throw new AuthError("claim_invalid", { message: 'The bearer token\'s "sub" claim must be a non-empty string' });
  const tier = typeof payload.tier === "string" && payload.tier.length > 0 ? payload.tier : DEFAULT_TIER;
  return Object.freeze({ sub: payload.sub, tier, claims: Object.freeze({ ...payload }) });
}
