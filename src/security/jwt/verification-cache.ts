import type { Identity, TokenVerifier } from "./verifier.js";

/** Options of {@link withVerificationCache}. */
export interface VerificationCacheOptions {
  /** Most tokens remembered (least recently used go first). Default 10 000. */
  max?: number;
  /** How long a verification is trusted before the signature is checked again. Default 60 s. */
  ttlMs?: number;
  /** Seconds of clock tolerance on `exp` (the settings' `auth.clockTolerance`). */
  clockToleranceSec?: number;
}

interface Entry {
  identity: Identity;
  /** Reuse until this time (ms epoch): the earlier of the TTL and the token's own expiry. */
  until: number;
}

/**
 * Remembers successful verifications of recent tokens, so a client sending the same token on every request
 * pays for the signature check once a minute, not per request (HS256 verification costs about as much as the
 * rest of a small request). A remembered token is still refused once it expires; only successes are kept, so
 * a bad token is checked (and refused) every time. With a JWKS, a key removed at the provider stops being
 * accepted within the TTL.
 *
 * @example
 * const verifier = withVerificationCache(await createTokenVerifier(config.auth), { clockToleranceSec: 30 });
 */
export function withVerificationCache(verifier: TokenVerifier, options: VerificationCacheOptions = {}): TokenVerifier {
  const max = options.max ?? 10_000;
  const ttlMs = options.ttlMs ?? 60_000;
  const toleranceMs = (options.clockToleranceSec ?? 0) * 1000;
  const entries = new Map<string, Entry>();
  return Object.freeze({
    algorithms: verifier.algorithms,
    async verify(token: string | undefined): Promise<Identity> {
      if (token) {
        const hit = entries.get(token);
        if (hit) {
          entries.delete(token);
          if (Date.now() < hit.until) {
            entries.set(token, hit); // most recently used last
            return hit.identity;
          }
        }
      }
      const identity = await verifier.verify(token);
      const exp = typeof identity.claims.exp === "number" ? identity.claims.exp * 1000 + toleranceMs : Date.now();
      entries.set(token as string, { identity, until: Math.min(Date.now() + ttlMs, exp) });
      if (entries.size > max) entries.delete(entries.keys().next().value as string);
      return identity;
    },
  });
}
