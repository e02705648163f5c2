// The forged-token table: every way a token can be wrong is rejected with its own machine reason.
import { UnsecuredJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { AuthError, createTokenVerifier, type AuthErrorReason, type TokenVerifier } from "../../../src/security/jwt/index.js";
import { authSettings } from "./support/auth-settings.js";
import { SECRET, bytes, now, rsaKeys, sign, type TestKeyPair } from "./support/jwt-keys.js";
import { jsonServer } from "./support/ports.js";

let rsa: TestKeyPair;
let attacker: TestKeyPair;
let hsVerifier: TokenVerifier;
let rsaVerifier: TokenVerifier;

beforeAll(async () => {
  rsa = rsaKeys();
  attacker = rsaKeys();
  const claims = { issuer: "https://issuer.test", audience: "kaygraph-api" };
  hsVerifier = await createTokenVerifier(authSettings({ secret: SECRET, ...claims }));
  rsaVerifier = await createTokenVerifier(authSettings({ publicKey: rsa.pem, ...claims }));
});

/** Claims that pass the configured iss/aud checks. */
const good = { iss: "https://issuer.test", aud: "kaygraph-api" };
const hs = (claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}) => sign("HS256", bytes(SECRET), { claims: { ...good, ...claims }, header });
const rs = (claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}) => sign("RS256", rsa.privateKey, { claims: { ...good, ...claims }, header });

async function reasonOf(verifier: TokenVerifier, token: string | undefined): Promise<AuthErrorReason> {
  const error = await verifier.verify(token).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!AuthError.is(error)) throw new Error(`expected an AuthError, got ${String(error)}`);
  return error.reason;
}

interface ForgedCase {
  name: string;
  verifier: () => TokenVerifier;
  token: () => Promise<string | undefined>;
  reason: AuthErrorReason;
}

const forged: ForgedCase[] = [
  { name: "no token", verifier: () => hsVerifier, token: async () => undefined, reason: "missing" },
  { name: "empty token", verifier: () => hsVerifier, token: async () => "", reason: "missing" },
  { name: "garbage", verifier: () => hsVerifier, token: async () => "not-a-jwt", reason: "malformed" },
  { name: "three garbage parts", verifier: () => rsaVerifier, token: async () => "a.b.c", reason: "malformed" },
  { name: "oversized token", verifier: () => hsVerifier, token: async () => `${await hs()}${"A".repeat(9000)}`, reason: "malformed" },
  { name: "HS256 with another secret", verifier: () => hsVerifier, token: () => sign("HS256", bytes("x".repeat(40)), { claims: good }), reason: "invalid_signature" },
  { name: "RS256 with another key", verifier: () => rsaVerifier, token: () => sign("RS256", attacker.privateKey, { claims: good }), reason: "invalid_signature" },
  {
    name: "payload swapped under a valid signature",
    verifier: () => rsaVerifier,
    token: async () => {
      const [header, , signature] = (await rs()).split(".");
      const payload = Buffer.from(JSON.stringify({ ...good, sub: "admin", exp: now() + 3600 })).toString("base64url");
      return `${header}.${payload}.${signature}`;
    },
    reason: "invalid_signature",
  },
  { name: "alg none (HS verifier)", verifier: () => hsVerifier, token: async () => new UnsecuredJWT({ ...good, sub: "a", exp: now() + 60 }).encode(), reason: "alg_not_allowed" },
  { name: "alg none (RSA verifier)", verifier: () => rsaVerifier, token: async () => new UnsecuredJWT({ ...good, sub: "a", exp: now() + 60 }).encode(), reason: "alg_not_allowed" },
  { name: "HS256 signed with the RSA public key PEM (HS/RS confusion)", verifier: () => rsaVerifier, token: () => sign("HS256", bytes(rsa.pem), { claims: good }), reason: "alg_not_allowed" },
  { name: "RS256 against an HS256-only verifier", verifier: () => hsVerifier, token: () => rs(), reason: "alg_not_allowed" },
  { name: "expired beyond the tolerance", verifier: () => hsVerifier, token: () => hs({ exp: now() - 60 }), reason: "expired" },
  { name: "nbf in the future", verifier: () => rsaVerifier, token: () => rs({ nbf: now() + 120 }), reason: "not_yet_valid" },
  { name: "missing sub", verifier: () => hsVerifier, token: () => hs({ sub: undefined }), reason: "claim_missing" },
  { name: "missing exp", verifier: () => rsaVerifier, token: () => rs({ exp: undefined }), reason: "claim_missing" },
  { name: "numeric sub", verifier: () => hsVerifier, token: () => hs({ sub: 42 }), reason: "claim_invalid" },
  { name: "wrong iss", verifier: () => hsVerifier, token: () => hs({ iss: "https://evil.test" }), reason: "claim_invalid" },
  { name: "wrong aud", verifier: () => rsaVerifier, token: () => rs({ aud: "another-api" }), reason: "claim_invalid" },
  { name: "missing iss (issuer configured)", verifier: () => rsaVerifier, token: () => rs({ iss: undefined }), reason: "claim_missing" },
  { name: "kid with ../", verifier: () => rsaVerifier, token: () => rs({}, { kid: "../../../../etc/passwd" }), reason: "malformed" },
  { name: "kid with a NUL byte", verifier: () => hsVerifier, token: () => hs({}, { kid: "key\u0000" }), reason: "malformed" },
  {
    name: "embedded jwk header of the attacker's key",
    verifier: () => rsaVerifier,
    token: () => sign("RS256", attacker.privateKey, { claims: good, header: { jwk: attacker.jwk as never } }),
    reason: "invalid_signature",
  },
];

describe("forged tokens", () => {
  it.each(forged)("$name → $reason", async ({ verifier, token, reason }) => {
    expect(await reasonOf(verifier(), await token())).toBe(reason);
  });

  it("never follows jku, x5u or x5c headers to an attacker's key", async () => {
    const evil = await jsonServer(() => ({ keys: [{ ...attacker.jwk, kid: "evil", alg: "RS256" }] }));
    const x5c = [attacker.publicKey.export({ type: "spki", format: "der" }).toString("base64")];
    const header = { kid: "evil", jku: `${evil.url}/jwks.json`, x5u: `${evil.url}/cert.pem`, x5c };
    const token = await sign("RS256", attacker.privateKey, { claims: good, header });
    expect(await reasonOf(rsaVerifier, token)).toBe("invalid_signature");
    expect(evil.paths).toEqual([]);
  });

  it("answers 401 with an invalid_token challenge, or a bare Bearer challenge when no token came", async () => {
    const invalid = await hsVerifier.verify("garbage").catch((e: AuthError) => e);
    const missing = await hsVerifier.verify(undefined).catch((e: AuthError) => e);
    expect(invalid).toMatchObject({ status: 401, errorCode: "UNAUTHORIZED", wwwAuthenticate: 'Bearer error="invalid_token"' });
    expect(missing).toMatchObject({ status: 401, errorCode: "UNAUTHORIZED", wwwAuthenticate: "Bearer" });
  });
});
