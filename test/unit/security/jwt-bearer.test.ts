// Where tokens travel: the Authorization header and the three WebSocket upgrade forms.
import { describe, expect, it } from "vitest";
import { AuthError, bearerFrom, bearerFromProtocols, tokenFromUpgrade } from "../../../src/security/jwt/index.js";

describe("bearerFrom", () => {
  it.each([
    ["Bearer abc.def.ghi", "abc.def.ghi"],
    ["bearer abc", "abc"],
    ["BEARER   abc  ", "abc"],
    [["Bearer first", "Bearer second"], "first"],
    ["Basic dXNlcjpwYXNz", undefined],
    ["Bearer", undefined],
    ["Bearer    ", undefined],
    ["Bearer a b", undefined],
    ["abc.def.ghi", undefined],
    [undefined, undefined],
  ])("%j → %j", (header, token) => {
    expect(bearerFrom(header)).toBe(token);
  });
});

describe("WebSocket upgrade tokens", () => {
  it("reads Sec-WebSocket-Protocol: bearer, <token> (also among other subprotocols)", () => {
    expect(bearerFromProtocols("bearer, tok.en.x")).toBe("tok.en.x");
    expect(bearerFromProtocols("graph-events, bearer, tok")).toBe("tok");
    expect(bearerFromProtocols("bearer")).toBeUndefined();
    expect(bearerFromProtocols("graph-events")).toBeUndefined();
  });

  it("tries the Authorization header, then the subprotocol, then ?token=", () => {
    const all = { authorization: "Bearer from-header", "sec-websocket-protocol": "bearer, from-protocol" };
    expect(tokenFromUpgrade({ headers: all, url: "/ws/c1?token=from-query" })).toEqual({ token: "from-header", source: "authorization" });
    expect(tokenFromUpgrade({ headers: { "sec-websocket-protocol": "bearer, from-protocol" }, url: "/ws/c1?token=q" })).toEqual({
      token: "from-protocol",
      source: "protocol",
      protocol: "bearer",
    });
    expect(tokenFromUpgrade({ headers: {}, url: "/ws/c1?x=1&token=from-query" })).toEqual({ token: "from-query", source: "query" });
    expect(tokenFromUpgrade({ headers: { authorization: "Basic x" }, url: "/ws/c1" })).toBeUndefined();
  });
});

describe("AuthError", () => {
  it("maps reasons to status, error code and challenge", () => {
    expect(new AuthError("missing")).toMatchObject({ status: 401, errorCode: "UNAUTHORIZED", wwwAuthenticate: "Bearer" });
    expect(new AuthError("expired")).toMatchObject({ status: 401, wwwAuthenticate: 'Bearer error="invalid_token"', message: "The bearer token has expired" });
    expect(new AuthError("keys_unavailable")).toMatchObject({ status: 503, errorCode: "UNAVAILABLE" });
    expect(AuthError.is(new AuthError("malformed"))).toBe(true);
    expect(AuthError.is(new Error("x"))).toBe(false);
  });
});
