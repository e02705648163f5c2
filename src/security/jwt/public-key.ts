/** Loads the configured asymmetric public key (PEM SPKI, PEM X.509 certificate, or JWK) at boot. */
import { X509Certificate, createPublicKey, type JsonWebKey, type KeyObject } from "node:crypto";
import { Errors, KaygraphError } from "../../errors.js";
import { algorithmsForKey } from "./algorithms.js";

/** A loaded public key and the algorithms it may verify. */
export interface LoadedPublicKey {
  key: KeyObject;
  algorithms: string[];
}

const MIN_RSA_BITS = 2048;

function invalid(message: string, cause?: unknown): KaygraphError {
  return new KaygraphError(Errors.AuthKeyInvalid, { message: `auth.publicKey: ${message}`, cause });
}

/**
 * Parses `auth.publicKey`: PEM text (`PUBLIC KEY`, `RSA PUBLIC KEY` or `CERTIFICATE`; literal `\n` from an
 * env var is accepted), a JWK object, or a JWK as JSON text. Private keys and symmetric JWKs are refused,
 * RSA keys must have at least 2048 bits. Throws `KG_AUTH_KEY_INVALID` with the reason.
 *
 * @example
 * loadPublicKey(readFileSync("jwt-public.pem", "utf8")) // { key, algorithms: ["RS256", …] }
 */
export function loadPublicKey(value: string | Record<string, unknown>): LoadedPublicKey {
  const key = typeof value === "string" ? fromText(value) : fromJwk(value);
  const algorithms = algorithmsForKey(key);
  if (algorithms.length === 0) {
    const detail = key.asymmetricKeyDetails?.namedCurve ?? key.asymmetricKeyType ?? "unknown";
    throw invalid(`unsupported key type "${detail}"; use RSA, RSA-PSS, EC P-256/P-384/P-521 or Ed25519`);
  }
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (bits !== undefined && bits < MIN_RSA_BITS) throw invalid(`the RSA key has ${bits} bits; at least ${MIN_RSA_BITS} are required`);
  if (typeof value !== "string" && typeof value.alg === "string") return { key, algorithms: narrowToJwkAlg(algorithms, value.alg) };
  return { key, algorithms };
}

function fromText(raw: string): KeyObject {
  const text = raw.trim().replace(/\\n/g, "\n");
  if (text.startsWith("{")) return fromJwk(parseJson(text));
  if (/PRIVATE KEY-----/.test(text)) throw invalid("this is a private key; configure the public key (never put the signing key on the server)");
  try {
    if (text.includes("-----BEGIN CERTIFICATE-----")) return new X509Certificate(text).publicKey;
    if (/-----BEGIN (RSA )?PUBLIC KEY-----/.test(text)) return createPublicKey(text);
  } catch (cause) {
    throw invalid(`could not parse the PEM text (${(cause as Error).message})`, cause);
  }
  throw invalid("expected PEM text (-----BEGIN PUBLIC KEY----- or -----BEGIN CERTIFICATE-----) or a JWK");
}

function parseJson(text: string): Record<string, unknown> {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (cause) {
    throw invalid("looks like JSON but does not parse as a JWK", cause);
  }
}

function fromJwk(jwk: Record<string, unknown>): KeyObject {
  if (jwk.kty === "oct") throw invalid('a symmetric JWK (kty "oct") is not a public key; use auth.secret for HMAC');
  if ("d" in jwk || "p" in jwk) throw invalid("this JWK holds a private key; configure the public key only");
  if (jwk.use !== undefined && jwk.use !== "sig") throw invalid(`the JWK's "use" is "${String(jwk.use)}", expected "sig"`);
  try {
    return createPublicKey({ key: jwk as JsonWebKey, format: "jwk" });
  } catch (cause) {
    throw invalid(`not a valid public JWK (${(cause as Error).message})`, cause);
  }
}

function narrowToJwkAlg(algorithms: string[], alg: string): string[] {
  if (!algorithms.includes(alg)) throw invalid(`the JWK's "alg" ${alg} does not fit its key type (allowed: ${algorithms.join(", ")})`);
  return [alg];
}
