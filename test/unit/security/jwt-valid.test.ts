// Valid tokens pass for every supported key form, and the identity carries sub, tier and claims.
import { execa } from "execa";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { createTokenVerifier, signToken } from "../../../src/security/jwt/index.js";
import { authSettings } from "./support/auth-settings.js";
import { SECRET, bytes, ecKeys, edKeys, now, rsaKeys, sign, type TestKeyPair } from "./support/jwt-keys.js";

let rsa: TestKeyPair;
let ec: TestKeyPair;
let ed: TestKeyPair;

beforeAll(() => {
  rsa = rsaKeys();
  ec = ecKeys();
  ed = edKeys();
});

describe("valid tokens", () => {
  it("HS256 with the secret, tier from the claim or free by default", async () => {
    const verifier = await createTokenVerifier(authSettings({ secret: SECRET }));
    expect(verifier.algorithms).toEqual(["HS256"]);
    const premium = await verifier.verify(await signToken({ sub: "alice", tier: "premium" }, SECRET));
    expect(premium).toMatchObject({ sub: "alice", tier: "premium", claims: { sub: "alice", tier: "premium" } });
    expect(await verifier.verify(await sign("HS256", bytes(SECRET)))).toMatchObject({ sub: "alice", tier: "free" });
  });

  it("RS256 and PS256 with an RSA PEM, including one with literal \\n from an env var", async () => {
    const verifier = await createTokenVerifier(authSettings({ publicKey: rsa.pem.replace(/\n/g, "\\n") }));
    expect(verifier.algorithms).toEqual(["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"]);
    expect((await verifier.verify(await sign("RS256", rsa.privateKey))).sub).toBe("alice");
    expect((await verifier.verify(await sign("PS256", rsa.privateKey))).sub).toBe("alice");
  });

  it("RS256 with an RSA JWK (object or JSON text); a JWK's alg narrows the allow-list", async () => {
    const fromObject = await createTokenVerifier(authSettings({ publicKey: rsa.jwk }));
    const fromText = await createTokenVerifier(authSettings({ publicKey: JSON.stringify(rsa.jwk) }));
    const token = await sign("RS256", rsa.privateKey);
    expect((await fromObject.verify(token)).sub).toBe("alice");
    expect((await fromText.verify(token)).sub).toBe("alice");
    const pinned = await createTokenVerifier(authSettings({ publicKey: { ...rsa.jwk, alg: "RS256" } }));
    expect(pinned.algorithms).toEqual(["RS256"]);
    await expect(pinned.verify(await sign("PS256", rsa.privateKey))).rejects.toMatchObject({ reason: "alg_not_allowed" });
  });

  it("ES256 with an EC P-256 key, and ES384 is refused for it", async () => {
    const verifier = await createTokenVerifier(authSettings({ publicKey: ec.pem }));
    expect(verifier.algorithms).toEqual(["ES256"]);
    expect((await verifier.verify(await sign("ES256", ec.privateKey))).sub).toBe("alice");
    await expect(verifier.verify(await sign("ES384", ecKeys("P-384").privateKey))).rejects.toMatchObject({ reason: "alg_not_allowed" });
  });

  it("EdDSA (and its fully specified name Ed25519) with an Ed25519 key as PEM or JWK", async () => {
    for (const publicKey of [ed.pem, ed.jwk]) {
      const verifier = await createTokenVerifier(authSettings({ publicKey }));
      expect((await verifier.verify(await sign("EdDSA", ed.privateKey))).sub).toBe("alice");
      expect((await verifier.verify(await sign("Ed25519", ed.privateKey))).sub).toBe("alice");
    }
  });

  it("ES256 with the public key of an X.509 certificate", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "kaygraph-cert-"));
    try {
      const [key, cert] = [path.join(dir, "key.pem"), path.join(dir, "cert.pem")];
      await execa("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=kaygraph-test", "-days", "1", "-keyout", key, "-out", cert]);
      const { createPrivateKey } = await import("node:crypto");
      const verifier = await createTokenVerifier(authSettings({ publicKey: await readFile(cert, "utf8") }));
      const token = await sign("ES256", createPrivateKey(await readFile(key, "utf8")));
      expect((await verifier.verify(token)).sub).toBe("alice");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("checks iss and aud when configured, accepting any of several", async () => {
    const verifier = await createTokenVerifier(authSettings({ secret: SECRET, issuer: ["https://a.test", "https://b.test"], audience: "api" }));
    const token = await sign("HS256", bytes(SECRET), { claims: { iss: "https://b.test", aud: ["other", "api"] } });
    expect((await verifier.verify(token)).sub).toBe("alice");
  });

  it("tolerates clock skew up to clockTolerance seconds on exp and nbf", async () => {
    const lenient = await createTokenVerifier(authSettings({ secret: SECRET }));
    const strict = await createTokenVerifier(authSettings({ secret: SECRET, clockTolerance: 0 }));
    const lateExp = await sign("HS256", bytes(SECRET), { claims: { exp: now() - 10 } });
    const earlyNbf = await sign("HS256", bytes(SECRET), { claims: { nbf: now() + 10 } });
    expect((await lenient.verify(lateExp)).sub).toBe("alice");
    expect((await lenient.verify(earlyNbf)).sub).toBe("alice");
    await expect(strict.verify(lateExp)).rejects.toMatchObject({ reason: "expired" });
    await expect(strict.verify(earlyNbf)).rejects.toMatchObject({ reason: "not_yet_valid" });
  });

  it("accepts both families when a secret and a public key are configured, each with its own key", async () => {
    const verifier = await createTokenVerifier(authSettings({ secret: SECRET, publicKey: ec.pem }));
    expect(verifier.algorithms).toEqual(["HS256", "ES256"]);
    expect((await verifier.verify(await sign("HS256", bytes(SECRET)))).sub).toBe("alice");
    expect((await verifier.verify(await sign("ES256", ec.privateKey))).sub).toBe("alice");
  });
});
