// Keys from a JWKS URL: fetched once and cached, unknown or path-like kids never cause extra lookups,
// an unreachable JWKS is the server's fault (503), not the caller's.
import { beforeAll, describe, expect, it } from "vitest";
import { createTokenVerifier } from "../../../src/security/jwt/index.js";
import { authSettings } from "./support/auth-settings.js";
import { SECRET, bytes, ecKeys, rsaKeys, sign, type TestKeyPair } from "./support/jwt-keys.js";
import { freePort, jsonServer } from "./support/ports.js";

let rsa: TestKeyPair;
let ec: TestKeyPair;

beforeAll(() => {
  rsa = rsaKeys();
  ec = ecKeys();
});

async function jwksFixture() {
  const server = await jsonServer(() => ({ keys: [{ ...rsa.jwk, kid: "rsa-1", use: "sig" }, { ...ec.jwk, kid: "ec-1" }] }));
  const verifier = await createTokenVerifier(authSettings({ jwksUrl: `${server.url}/.well-known/jwks.json` }));
  return { ...server, verifier };
}

describe("JWKS", () => {
  it("verifies RS256 and ES256 tokens by kid and fetches the key set once for many verifications", async () => {
    const { verifier, paths } = await jwksFixture();
    const rsToken = await sign("RS256", rsa.privateKey, { header: { kid: "rsa-1" } });
    const esToken = await sign("ES256", ec.privateKey, { header: { kid: "ec-1" } });
    const identities = await Promise.all(Array.from({ length: 20 }, (_, i) => verifier.verify(i % 2 ? rsToken : esToken)));
    expect(identities.every((identity) => identity.sub === "alice")).toBe(true);
    for (let i = 0; i < 10; i++) await verifier.verify(rsToken);
    expect(paths).toEqual(["/.well-known/jwks.json"]);
  });

  it("rejects an unknown kid without refetching inside the cooldown, and a path-like kid before any lookup", async () => {
    const { verifier, paths } = await jwksFixture();
    await verifier.verify(await sign("RS256", rsa.privateKey, { header: { kid: "rsa-1" } }));
    const unknown = await sign("RS256", rsa.privateKey, { header: { kid: "rotated-away" } });
    await expect(verifier.verify(unknown)).rejects.toMatchObject({ reason: "unknown_key", status: 401 });
    const traversal = await sign("RS256", rsa.privateKey, { header: { kid: "../../../etc/passwd" } });
    await expect(verifier.verify(traversal)).rejects.toMatchObject({ reason: "malformed" });
    expect(paths).toEqual(["/.well-known/jwks.json"]);
  });

  it("never accepts HS256 through a JWKS, even signed with a key's own bytes", async () => {
    const { verifier } = await jwksFixture();
    const token = await sign("HS256", bytes(rsa.pem), { header: { kid: "rsa-1" } });
    await expect(verifier.verify(token)).rejects.toMatchObject({ reason: "alg_not_allowed" });
  });

  it("answers keys_unavailable (503 UNAVAILABLE) when the JWKS cannot be fetched", async () => {
    const port = await freePort();
    const verifier = await createTokenVerifier(authSettings({ jwksUrl: `http://127.0.0.1:${port}/jwks.json` }), { jwks: { timeoutMs: 2000 } });
    const error = await verifier.verify(await sign("RS256", rsa.privateKey, { header: { kid: "rsa-1" } })).catch((e: unknown) => e);
    expect(error).toMatchObject({ reason: "keys_unavailable", status: 503, errorCode: "UNAVAILABLE", wwwAuthenticate: "Bearer" });
  });

  it("answers keys_unavailable when the JWKS endpoint answers garbage", async () => {
    const server = await jsonServer(() => ({ not: "a key set" }));
    const verifier = await createTokenVerifier(authSettings({ jwksUrl: `${server.url}/jwks.json` }));
    await expect(verifier.verify(await sign("RS256", rsa.privateKey, { header: { kid: "rsa-1" } }))).rejects.toMatchObject({ reason: "keys_unavailable" });
  });

  it("uses the secret for HS256 and the JWKS for the rest when both are configured", async () => {
    const server = await jsonServer(() => ({ keys: [{ ...rsa.jwk, kid: "rsa-1" }] }));
    const verifier = await createTokenVerifier(authSettings({ secret: SECRET, jwksUrl: `${server.url}/jwks.json` }));
    expect((await verifier.verify(await sign("HS256", bytes(SECRET)))).sub).toBe("alice");
    expect((await verifier.verify(await sign("RS256", rsa.privateKey, { header: { kid: "rsa-1" } }))).sub).toBe("alice");
    expect(server.paths).toHaveLength(1);
  });
});
