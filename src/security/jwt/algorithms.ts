/**
 * JWS algorithm allow-lists, pinned per key type: a key is only ever used with the algorithms of its own
 * family, so an RSA public key can never serve as an HMAC secret (HS/RS confusion) and `none` is never allowed.
 */
import type { KeyObject } from "node:crypto";

/** HMAC algorithms, usable only with the shared secret. */
export const HMAC_ALGORITHMS: readonly string[] = ["HS256", "HS384", "HS512"];

/** HMAC algorithms allowed by default for the secret (DESIGN.md section 5: HS256). */
export const DEFAULT_HMAC_ALGORITHMS: readonly string[] = ["HS256"];

const RSA = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"];
const RSA_PSS = ["PS256", "PS384", "PS512"];
const EC_BY_CURVE: Record<string, string[]> = { prime256v1: ["ES256"], secp384r1: ["ES384"], secp521r1: ["ES512"] };
const OKP: Record<string, string[]> = { ed25519: ["EdDSA", "Ed25519"], ed448: ["EdDSA"] };

/** Every asymmetric algorithm kaygraph accepts (the JWKS allow-list before narrowing). */
export const ASYMMETRIC_ALGORITHMS: readonly string[] = [...RSA, "ES256", "ES384", "ES512", "EdDSA", "Ed25519"];

/**
 * The algorithms a public key may verify, from its type (and curve); empty for unsupported keys.
 *
 * @example
 * algorithmsForKey(createPublicKey(pem)) // ["RS256", …, "PS512"] for an RSA key
 */
export function algorithmsForKey(key: KeyObject): string[] {
  const type = key.asymmetricKeyType;
  if (type === "rsa") return [...RSA];
  if (type === "rsa-pss") return [...RSA_PSS];
  if (type === "ec") return [...(EC_BY_CURVE[key.asymmetricKeyDetails?.namedCurve ?? ""] ?? [])];
  return [...(OKP[type ?? ""] ?? [])];
}

/** True for HS256/HS384/HS512. */
export function isHmac(alg: string): boolean {
  return HMAC_ALGORITHMS.includes(alg);
}
