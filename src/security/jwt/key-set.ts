/**
 * Turns the `auth` settings into the keys a verifier uses and the pinned algorithm allow-list, validating
 * everything at boot. The key for a token is chosen by its (already allow-listed) `alg` family: HS* → the
 * secret, anything else → the public key or the JWKS; a key is never tried with another family's algorithm.
 */
import { createRemoteJWKSet, errors, type JWTVerifyGetKey } from "jose";
import type { ResolvedConfig } from "../../config/schema.js";
import { Errors, KaygraphError } from "../../errors.js";
import { ASYMMETRIC_ALGORITHMS, DEFAULT_HMAC_ALGORITHMS, HMAC_ALGORITHMS, isHmac } from "./algorithms.js";
import { AuthError } from "./auth-error.js";
import { loadPublicKey } from "./public-key.js";

/** The `auth` settings. */
export type AuthSettings = ResolvedConfig["auth"];

/** JWKS fetching and caching (jose `createRemoteJWKSet` options, in milliseconds). */
export interface JwksOptions {
  /** How long fetched keys are used before a refetch. Default 10 minutes. */
  cacheMaxAgeMs?: number;
  /** Least time between two refetches triggered by an unknown `kid`. Default 30 s. */
  cooldownMs?: number;
  /** Timeout of one JWKS request. Default 5 s. */
  timeoutMs?: number;
}

/** Keys and allow-list resolved from the settings. */
export interface KeySet {
  /** The pinned allow-list passed to jose. */
  algorithms: string[];
  /** jose key resolver. */
  getKey: JWTVerifyGetKey;
  /** Whether keys come from a JWKS URL (network failures then mean `keys_unavailable`). */
  remote: boolean;
}

/** The least HMAC secret length in bytes (RFC 7518 section 3.2 for HS256). */
export const MIN_SECRET_BYTES = 32;

/**
 * Checks an HS secret: missing or empty → `KG_AUTH_SECRET_MISSING`, fewer than 32 bytes (UTF-8) →
 * `KG_AUTH_SECRET_WEAK`. Returns the key bytes.
 *
 * @example
 * const key = secretKey(process.env.KAYGRAPH_SECRET_KEY);
 */
export function secretKey(secret: string | undefined): Uint8Array {
  if (!secret) throw new KaygraphError(Errors.AuthSecretMissing, { message: "No JWT secret is configured (auth.secret or KAYGRAPH_SECRET_KEY)." });
  const bytes = new TextEncoder().encode(secret);
  if (bytes.byteLength < MIN_SECRET_BYTES) {
    throw new KaygraphError(Errors.AuthSecretWeak, { message: `The JWT secret has ${bytes.byteLength} bytes; at least ${MIN_SECRET_BYTES} are required.` });
  }
  return bytes;
}

const invalid = (message: string) => new KaygraphError(Errors.AuthKeyInvalid, { message });

/**
 * Resolves the keys of the `auth` settings. Throws `KG_AUTH_SECRET_MISSING` when none is set,
 * `KG_AUTH_SECRET_WEAK` for a short secret and `KG_AUTH_KEY_INVALID` for a bad key, URL or algorithm list.
 *
 * @example
 * const { algorithms, getKey } = resolveKeySet({ ...auth, secret: process.env.KAYGRAPH_SECRET_KEY });
 */
export function resolveKeySet(auth: AuthSettings, jwksOptions: JwksOptions = {}): KeySet {
  if (!auth.secret && auth.publicKey === undefined && auth.jwksUrl === undefined) {
    throw new KaygraphError(Errors.AuthSecretMissing, { message: "JWT auth is on, but no secret, public key or JWKS URL is configured." });
  }
  if (auth.publicKey !== undefined && auth.jwksUrl !== undefined) throw invalid("Set either auth.publicKey or auth.jwksUrl, not both.");

  const secret = auth.secret ? secretKey(auth.secret) : undefined;
  const publicKey = auth.publicKey === undefined ? undefined : loadPublicKey(auth.publicKey);
  const jwks = auth.jwksUrl === undefined ? undefined : remoteKeySet(auth.jwksUrl, jwksOptions);

  const supported = [...(secret ? HMAC_ALGORITHMS : []), ...(publicKey?.algorithms ?? []), ...(jwks ? ASYMMETRIC_ALGORITHMS : [])];
  const defaults = [...(secret ? DEFAULT_HMAC_ALGORITHMS : []), ...(publicKey?.algorithms ?? []), ...(jwks ? ASYMMETRIC_ALGORITHMS : [])];
  const algorithms = auth.algorithms ? checkAlgorithms(auth.algorithms, supported) : defaults;

  const getKey: JWTVerifyGetKey = async (header, token) => {
    // jose has already checked header.alg against `algorithms`, so the family decides the key.
    if (isHmac(header.alg)) return secret ?? noKey();
    if (publicKey) return publicKey.key;
    return jwks ? jwks(header, token) : noKey();
  };
  return { algorithms, getKey, remote: jwks !== undefined };
}

function noKey(): never {
  throw new AuthError("alg_not_allowed");
}

function checkAlgorithms(requested: string[], supported: string[]): string[] {
  if (requested.length === 0) throw invalid("auth.algorithms: list at least one algorithm, or leave it out to pin them from the keys.");
  for (const alg of requested) {
    if (alg.toLowerCase() === "none") throw invalid('auth.algorithms: "none" is never allowed.');
    if (!supported.includes(alg)) {
      throw invalid(`auth.algorithms: ${alg} does not fit the configured keys (they allow ${supported.join(", ")}).`);
    }
  }
  return [...new Set(requested)];
}

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

function remoteKeySet(url: string, options: JwksOptions): JWTVerifyGetKey {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new KaygraphError(Errors.AuthKeyInvalid, { message: `auth.jwksUrl: "${url}" is not a URL.`, cause });
  }
  const loopback = LOOPBACK.has(parsed.hostname) || parsed.hostname.startsWith("127.");
  if (parsed.protocol !== "https:" && !(parsed.protocol === "http:" && loopback)) {
    throw invalid("auth.jwksUrl: must be an https:// URL (plain http is allowed only for localhost).");
  }
  const jwks = createRemoteJWKSet(parsed, {
    cacheMaxAge: options.cacheMaxAgeMs,
    cooldownDuration: options.cooldownMs,
    timeoutDuration: options.timeoutMs,
  });
  return async (header, token) => {
    try {
      return await jwks(header, token);
    } catch (error) {
      // jose's own errors (no matching key, timeout, bad JWKS) are classified later; anything else is the
      // network failing under fetch: the server cannot verify now, which is not the caller's fault.
      if (error instanceof errors.JOSEError) throw error;
      throw new AuthError("keys_unavailable", { cause: error });
    }
  };
}
