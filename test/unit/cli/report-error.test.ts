import { CommanderError } from "commander";
import { describe, expect, it } from "vitest";
import { isDebug } from "../../../src/cli/main.js";
import { reportError } from "../../../src/error-report.js";
import { Errors, KaygraphError } from "../../../src/errors.js";

function capture(error: unknown, debug = false) {
  let out = "";
  const code = reportError(error, { debug, color: false, write: (t) => (out += t) });
  return { code, out };
}

describe("reportError", () => {
  it("prints a KaygraphError as title, code, message and hint without a stack", () => {
    const { code, out } = capture(new KaygraphError(Errors.ConfigInvalid, { message: "server.port: expected a number (from env PORT)" }));
    expect(code).toBe(2);
    expect(out).toContain("Invalid kaygraph settings [KG_CONFIG_INVALID]");
    expect(out).toContain("server.port: expected a number (from env PORT)");
    expect(out).toContain("→ Fix the settings");
    expect(out).not.toMatch(/\n\s+at /);
  });

  it("adds the stack and cause with --debug", () => {
    const { out } = capture(new KaygraphError(Errors.GraphLoad, { message: "x", cause: new Error("root cause") }), true);
    expect(out).toMatch(/\n\s+at /);
    expect(out).toContain("Caused by: Error: root cause");
  });

  it("treats unknown errors as bugs: stack, report request, exit 1", () => {
    const { code, out } = capture(new TypeError("oops"));
    expect(code).toBe(1);
    expect(out).toContain("TypeError: oops");
    expect(out).toContain("This is a bug in kaygraph");
  });

  it("maps commander errors: help/version 0, usage errors 2, and prints nothing itself", () => {
    expect(capture(new CommanderError(0, "commander.helpDisplayed", "(outputHelp)"))).toEqual({ code: 0, out: "" });
    expect(capture(new CommanderError(1, "commander.unknownOption", "error: unknown option"))).toEqual({ code: 2, out: "" });
  });

  it("carries exit codes 1, 2 and 130 from the catalogue", () => {
    expect(capture(new KaygraphError(Errors.RunFailed)).code).toBe(1);
    expect(capture(new KaygraphError(Errors.Interrupted)).code).toBe(130);
    expect(KaygraphError.is(new KaygraphError(Errors.Usage))).toBe(true);
    expect(KaygraphError.is(new Error("x"))).toBe(false);
  });
});

describe("isDebug", () => {
  it("reads --debug and KAYGRAPH_DEBUG", () => {
    expect(isDebug(["node", "kaygraph", "--debug"], {})).toBe(true);
    expect(isDebug(["node", "kaygraph"], { KAYGRAPH_DEBUG: "1" })).toBe(true);
    expect(isDebug(["node", "kaygraph"], { KAYGRAPH_DEBUG: "0" })).toBe(false);
    expect(isDebug(["node", "kaygraph"], {})).toBe(false);
  });
});
