import { describe, expect, it } from "vitest";
import { DefinitionRunError } from "../../../src/definition/run-errors.js";
import { ERROR_CODES, HttpError, isErrorCode, refusalOf } from "../../../src/server/http-error.js";
import { toHttpError } from "../../../src/server/middleware/errors.js";

describe("HttpError", () => {
  it("gives every 503 a Retry-After, keeping the thrower's own", () => {
    expect(new HttpError(503, "UNAVAILABLE", "down").headers).toEqual({ "Retry-After": "1" });
    expect(new HttpError(503, "UNAVAILABLE", "down", { headers: { "Retry-After": "7" } }).headers).toEqual({ "Retry-After": "7" });
    expect(new HttpError(503, "UNAVAILABLE", "down", { headers: { "retry-after": "7" } }).headers).toEqual({ "retry-after": "7" });
    expect(new HttpError(500, "INTERNAL_ERROR", "bug").headers).toEqual({});
  });

  it("a run aborted by the drain (503) carries Retry-After too", () => {
    const http = toHttpError(new DefinitionRunError("ABORTED", "The server is shutting down; retry the request."), false);
    expect(http).toMatchObject({ status: 503, code: "UNAVAILABLE", headers: { "Retry-After": "1" } });
  });
});

describe("refusalOf", () => {
  it("keeps a code of the catalogue", () => {
    expect(refusalOf({ status: 401, code: "UNAUTHORIZED", message: "no token" })).toMatchObject({ status: 401, code: "UNAUTHORIZED", message: "no token" });
    expect(refusalOf({ status: 503, errorCode: "UNAVAILABLE", message: "keys" })).toMatchObject({ status: 503, code: "UNAVAILABLE", headers: { "Retry-After": "1" } });
  });

  it("never passes on a code outside the catalogue: the status's own code instead", () => {
    expect(refusalOf({ status: 429, code: "TOO_MANY_COOKIES" })).toMatchObject({ status: 429, code: "RATE_LIMITED" });
    expect(refusalOf({ status: 403, code: "ECONNREFUSED" })).toMatchObject({ code: "FORBIDDEN" });
    expect(refusalOf({ status: 401, code: "LIMITER_UNAVAILABLE", errorCode: "SOMETHING_ELSE" })).toMatchObject({ code: "UNAUTHORIZED" });
    expect(refusalOf({ status: 418, code: "TEAPOT" })).toMatchObject({ status: 418, code: "FORBIDDEN" });
    expect(refusalOf({ status: 502, code: "BAD_GATEWAY" })).toMatchObject({ status: 502, code: "INTERNAL_ERROR" });
    expect(refusalOf({ status: 503, code: "REDIS_DOWN" })).toMatchObject({ code: "UNAVAILABLE", headers: { "Retry-After": "1" } });
    // A node error code (`code: "ECONNRESET"`) on an object with a status is not a catalogue code either.
    expect(refusalOf(Object.assign(new Error("reset"), { status: 500, code: "ECONNRESET" }))).toMatchObject({ code: "INTERNAL_ERROR" });
  });

  it("is undefined for errors that are no refusal", () => {
    expect(refusalOf(new Error("bug"))).toBeUndefined();
    expect(refusalOf({ status: 200 })).toBeUndefined();
    expect(refusalOf({ status: 404.5 })).toBeUndefined();
    expect(refusalOf(null)).toBeUndefined();
  });

  it("knows exactly the catalogue's codes", () => {
    expect(ERROR_CODES).toContain("INVALID_JSON");
    expect(ERROR_CODES).not.toContain("BAD_REQUEST");
    expect(isErrorCode("BAD_REQUEST")).toBe(false);
    expect(isErrorCode("TIMEOUT")).toBe(true);
  });
});
