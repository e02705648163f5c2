// Key pairs and token builders for the JWT tests. Keys are generated per test run; nothing secret is stored.
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { SignJWT, type JWTHeaderParameters, type JWTPayload } from "jose";

/** A generated key pair with its public key in every form the settings accept. */
export interface TestKeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
  pem: string;
  jwk: Record<string, unknown>;
}

function pair(keys: { privateKey: KeyObject; publicKey: KeyObject }): TestKeyPair {
  return {
    ...keys,
    pem: keys.publicKey.export({ type: "spki", format: "pem" }).toString(),
    jwk: keys.publicKey.export({ format: "jwk" }) as Record<string, unknown>,
  };
}

export const rsaKeys = (bits = 2048) => pair(generateKeyPairSync("rsa", { modulusLength: bits }));
export const ecKeys = (namedCurve = "P-256") => pair(generateKeyPairSync("ec", { namedCurve }));
export const edKeys = () => pair(generateKeyPairSync("ed25519"));

/** A 48-byte test secret. */
export const SECRET = "kaygraph-test-secret-0123456789-abcdefghijklmnop";

/** Seconds since the epoch. */
export const now = () => Math.floor(Date.now() / 1000);

/** Options of {@link sign}. */
export interface SignOptions {
  header?: Partial<JWTHeaderParameters>;
  /** Claims; `sub` defaults to "alice" and `exp` to now + 1h unless set (use `undefined` to leave one out). */
  claims?: JWTPayload;
}

/** Signs a JWT with `alg` and `key` (a private KeyObject or HMAC bytes), filling in sub/exp by default. */
export async function sign(alg: string, key: KeyObject | Uint8Array, options: SignOptions = {}): Promise<string> {
  const claims: JWTPayload = { sub: "alice", exp: now() + 3600, ...options.claims };
  for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
  return new SignJWT(claims).setProtectedHeader({ alg, ...options.header }).sign(key);
}

/** UTF-8 bytes of a string (HMAC keys). */
export const bytes = (text: string) => new TextEncoder().encode(text);
