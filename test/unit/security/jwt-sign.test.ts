// `kaygraph token`: HS256 tokens with sub, tier, iat and exp that the server's verifier accepts.
import { decodeJwt, decodeProtectedHeader } from "jose";
import { describe, expect, it } from "vitest";
import { createTokenVerifier, parseExpiresIn, signToken } from "../../../src/security/jwt/index.js";
import { authSettings } from "./support/auth-settings.js";
import { SECRET } from "./support/jwt-keys.js";

describe("parseExpiresIn", () => {
  it.each([
    ["15m", 900],
    ["2h", 7200],
    ["7d", 604_800],
    ["30s", 30],
    ["90", 90],
    [3600, 3600],
  ] as const)("%j → %i seconds", (text, seconds) => {
    expect(parseExpiresIn(text)).toBe(seconds);
  });

  it.each(["", "0", "-5m", "2 weeks", "1.5h", "h"])("refuses %j with a usage error", (text) => {
    expect(() => parseExpiresIn(text)).toThrow(/Invalid token lifetime/);
  });
});

describe("signToken", () => {
  it("signs HS256 with sub, tier, iat and exp = iat + lifetime", async () => {
    const token = await signToken({ sub: "alice", tier: "basic", expiresIn: "2h" }, SECRET);
    expect(decodeProtectedHeader(token)).toEqual({ alg: "HS256", typ: "JWT" });
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ sub: "alice", tier: "basic" });
    expect(claims.exp! - claims.iat!).toBe(7200);
    expect(Math.abs(claims.iat! - Date.now() / 1000)).toBeLessThan(5);
  });

  it("defaults to one hour and no tier claim", async () => {
    const claims = decodeJwt(await signToken({ sub: "bob" }, SECRET));
    expect(claims.exp! - claims.iat!).toBe(3600);
    expect(claims).not.toHaveProperty("tier");
  });

  it("adds iss and aud so tokens pass a server that checks them", async () => {
    const verifier = await createTokenVerifier(authSettings({ secret: SECRET, issuer: ["kaygraph", "other"], audience: "api" }));
    const token = await signToken({ sub: "alice", issuer: ["kaygraph", "other"], audience: "api" }, SECRET);
    expect(await verifier.verify(token)).toMatchObject({ sub: "alice", tier: "free" });
  });

  it("refuses a weak or missing secret and an empty subject", async () => {
    await expect(signToken({ sub: "a" }, "short")).rejects.toMatchObject({ code: "KG_AUTH_SECRET_WEAK" });
    await expect(signToken({ sub: "a" }, undefined)).rejects.toMatchObject({ code: "KG_AUTH_SECRET_MISSING" });
    await expect(signToken({ sub: "" }, SECRET)).rejects.toMatchObject({ code: "KG_USAGE" });
  });
});
