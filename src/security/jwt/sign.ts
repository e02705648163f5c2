/** Mints HS256 tokens for `kaygraph token` (local testing against a server that shares the secret). */
import { SignJWT } from "jose";
import { Errors, KaygraphError } from "../../errors.js";
import { secretKey } from "./key-set.js";

/** What goes into a token minted by {@link signToken}. */
export interface TokenClaims {
  /** The subject (`sub`), required. */
  sub: string;
  /** The rate tier (`tier` claim); left out when undefined. */
  tier?: string;
  /** Lifetime: `"15m"`, `"2h"`, `"7d"`, `"30s"` or a number of seconds. Default `"1h"`. */
  expiresIn?: string | number;
  /** `iss` claim; with a list, the first (so tokens pass a server that checks `auth.issuer`). */
  issuer?: string | string[];
  /** `aud` claim. */
  audience?: string | string[];
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };
const DURATION = /^(\d+)\s*([smhd])?$/;

/**
 * Seconds of a token lifetime: `"15m"`, `"2h"`, `"7d"`, `"30s"`, `"90"` or a number. Throws `KG_USAGE` otherwise.
 *
 * @example
 * parseExpiresIn("2h") // 7200
 */
export function parseExpiresIn(value: string | number): number {
  const match = typeof value === "number" ? (Number.isInteger(value) ? [String(value), String(value)] : null) : DURATION.exec(value.trim());
  const seconds = match ? Number(match[1]) * UNIT_SECONDS[match[2] ?? "s"]! : NaN;
  if (!Number.isSafeInteger(seconds) || seconds <= 0) {
    throw new KaygraphError(Errors.Usage, { message: `Invalid token lifetime "${value}": use a positive number of seconds or a duration like "15m", "2h", "7d".` });
  }
  return seconds;
}

/**
 * Signs an HS256 JWT with `sub`, `tier`, `iat` and `exp` (plus `iss`/`aud` when given). The secret must have at
 * least 32 bytes (`KG_AUTH_SECRET_WEAK` otherwise, `KG_AUTH_SECRET_MISSING` when empty).
 *
 * @example
 * const token = await signToken({ sub: "alice", tier: "premium", expiresIn: "7d" }, process.env.KAYGRAPH_SECRET_KEY);
 */
export async function signToken(claims: TokenClaims, secret: string | undefined): Promise<string> {
  const key = secretKey(secret);
  if (typeof claims.sub !== "string" || claims.sub.length === 0) throw new KaygraphError(Errors.Usage, { message: "A token needs a non-empty subject (--sub)." });
  const iat = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT(claims.tier === undefined ? {} : { tier: claims.tier })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(claims.sub)
    .setIssuedAt(iat)
    .setExpirationTime(iat + parseExpiresIn(claims.expiresIn ?? "1h"));
  const issuer = Array.isArray(claims.issuer) ? claims.issuer[0] : claims.issuer;
  if (issuer !== undefined) jwt.setIssuer(issuer);
  if (claims.audience !== undefined) jwt.setAudience(claims.audience);
  return jwt.sign(key);
}
