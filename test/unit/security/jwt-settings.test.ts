// Boot-time validation of the auth settings: each mistake is a KaygraphError with its permanent code.
import { beforeAll, describe, expect, it } from "vitest";
import { KaygraphError } from "../../../src/errors.js";
import { createTokenVerifier, type AuthSettings } from "../../../src/security/jwt/index.js";
import { authSettings } from "./support/auth-settings.js";
import { SECRET, ecKeys, rsaKeys, type TestKeyPair } from "./support/jwt-keys.js";

let rsa: TestKeyPair;

beforeAll(() => {
  rsa = rsaKeys();
});

async function bootError(overrides: Partial<AuthSettings>): Promise<KaygraphError> {
  const error = await createTokenVerifier(authSettings(overrides)).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!KaygraphError.is(error)) throw new Error(`expected a KaygraphError, got ${String(error)}`);
  return error;
}

describe("auth settings at boot", () => {
  it("refuses jwt mode without any secret or key", async () => {
    expect((await bootError({})).code).toBe("KG_AUTH_SECRET_MISSING");
    expect((await bootError({ secret: "" })).code).toBe("KG_AUTH_SECRET_MISSING");
  });

  it("refuses a secret under 32 bytes, counting UTF-8 bytes", async () => {
    const error = await bootError({ secret: "x".repeat(31) });
    expect(error).toMatchObject({ code: "KG_AUTH_SECRET_WEAK", exitCode: 2 });
    expect(error.message).toContain("31 bytes");
    expect((await createTokenVerifier(authSettings({ secret: "x".repeat(32) }))).algorithms).toEqual(["HS256"]);
    expect((await createTokenVerifier(authSettings({ secret: "é".repeat(16) }))).algorithms).toEqual(["HS256"]);
  });

  it.each([
    ["text that is no key", "hello"],
    ["a broken PEM body", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"],
    ["JSON that is no JWK", "{not json"],
  ])("refuses %s as publicKey", async (_name, publicKey) => {
    expect((await bootError({ publicKey })).code).toBe("KG_AUTH_KEY_INVALID");
  });

  it("refuses private keys, symmetric and malformed JWKs, and RSA keys under 2048 bits", async () => {
    const privatePem = rsa.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    expect((await bootError({ publicKey: privatePem })).message).toContain("private key");
    expect((await bootError({ publicKey: rsa.privateKey.export({ format: "jwk" }) as Record<string, unknown> })).message).toContain("private key");
    expect((await bootError({ publicKey: { kty: "oct", k: "c2VjcmV0" } })).code).toBe("KG_AUTH_KEY_INVALID");
    expect((await bootError({ publicKey: { kty: "RSA", n: "AQAB" } })).code).toBe("KG_AUTH_KEY_INVALID");
    expect((await bootError({ publicKey: { ...rsa.jwk, use: "enc" } })).code).toBe("KG_AUTH_KEY_INVALID");
    expect((await bootError({ publicKey: rsaKeys(1024).pem })).message).toContain("2048");
    expect((await bootError({ publicKey: ecKeys("secp256k1").pem })).message).toContain("unsupported key type");
  });

  it("refuses a JWKS URL that is not https (except on loopback), and both a key and a JWKS URL", async () => {
    expect((await bootError({ jwksUrl: "http://idp.example.com/jwks.json" })).code).toBe("KG_AUTH_KEY_INVALID");
    expect((await bootError({ jwksUrl: "ftp://idp.example.com/jwks.json" })).code).toBe("KG_AUTH_KEY_INVALID");
    expect((await bootError({ jwksUrl: "not a url" })).code).toBe("KG_AUTH_KEY_INVALID");
    expect((await bootError({ publicKey: rsa.pem, jwksUrl: "https://idp.example.com/jwks.json" })).code).toBe("KG_AUTH_KEY_INVALID");
    await expect(createTokenVerifier(authSettings({ jwksUrl: "https://idp.example.com/jwks.json" }))).resolves.toBeDefined();
    await expect(createTokenVerifier(authSettings({ jwksUrl: "http://localhost:9999/jwks.json" }))).resolves.toBeDefined();
  });

  it("validates a configured algorithm list against the keys and never allows none", async () => {
    expect((await bootError({ secret: SECRET, algorithms: ["none"] })).message).toContain('"none"');
    expect((await bootError({ publicKey: rsa.pem, algorithms: ["HS256"] })).message).toContain("HS256");
    expect((await bootError({ secret: SECRET, algorithms: ["RS256"] })).code).toBe("KG_AUTH_KEY_INVALID");
    expect((await bootError({ secret: SECRET, algorithms: [] })).message).toContain("at least one");
    const pinned = await createTokenVerifier(authSettings({ publicKey: rsa.pem, algorithms: ["PS256", "PS256"] }));
    expect(pinned.algorithms).toEqual(["PS256"]);
    expect((await createTokenVerifier(authSettings({ secret: SECRET, algorithms: ["HS512"] }))).algorithms).toEqual(["HS512"]);
  });
});
