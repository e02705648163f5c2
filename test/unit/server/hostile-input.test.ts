import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { exceedsJsonDepth } from "../../../src/server/json-depth.js";
import { toHttpError } from "../../../src/server/middleware/errors.js";
import { resolveStaticFile } from "../../../src/server/routes/static.js";
import { isSecretQueryName, redactUrl } from "../../../src/server/secret-query.js";
import { parseClientMessage } from "../../../src/server/ws/protocol.js";

describe("exceedsJsonDepth", () => {
  it("counts objects and arrays, not brackets inside strings or after escapes", () => {
    expect(exceedsJsonDepth("[]", 1)).toBe(false);
    expect(exceedsJsonDepth("[[]]", 1)).toBe(true);
    expect(exceedsJsonDepth('{"a":[1,{"b":2}]}', 3)).toBe(false);
    expect(exceedsJsonDepth('{"a":[1,{"b":2}]}', 2)).toBe(true);
    expect(exceedsJsonDepth('{"a":"[[[[{{{{"}', 1)).toBe(false);
    expect(exceedsJsonDepth('{"a":"\\"[[[["}', 1)).toBe(false);
    expect(exceedsJsonDepth('["\\\\",[[]]]', 2)).toBe(true);
    expect(exceedsJsonDepth("[1],[2],[3]", 1)).toBe(false);
  });

  it("scans bytes the same as text, and 100,000 levels without recursion", () => {
    const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
    expect(exceedsJsonDepth(deep, 64)).toBe(true);
    expect(exceedsJsonDepth(Buffer.from(deep), 64)).toBe(true);
    expect(exceedsJsonDepth(Buffer.from('{"ü":"[[[["}'), 1)).toBe(false);
    expect(exceedsJsonDepth(`${"[".repeat(64)}${"]".repeat(64)}`, 64)).toBe(false);
  });
});

describe("parseClientMessage depth", () => {
  it("refuses a message whose payload nests deeper than the limit as INVALID_JSON naming it", () => {
    const input = `${"[".repeat(65)}${"]".repeat(65)}`;
    const parsed = parseClientMessage(`{"type":"run","id":"m","graph":"g","input":${input}}`, 64);
    expect(parsed).toMatchObject({ ok: false, error: { error_code: "INVALID_JSON", details: { max_depth: 64 } } });
    const ok = parseClientMessage(`{"type":"run","id":"m","graph":"g","input":${"[".repeat(64)}${"]".repeat(64)}}`, 64);
    expect(ok.ok).toBe(true);
  });
});

describe("redactUrl", () => {
  it("matches secret names after decoding and case-insensitively, keeping everything else as sent", () => {
    expect(isSecretQueryName("tok%65n")).toBe(true);
    expect(isSecretQueryName("Access-Token")).toBe(true);
    expect(isSecretQueryName("api_key")).toBe(true);
    expect(isSecretQueryName("page")).toBe(false);
    expect(isSecretQueryName("%ZZtoken")).toBe(false);
    expect(redactUrl("/ws/c1?tok%65n=abc&x=1")).toBe("/ws/c1?tok%65n=[redacted]&x=1");
    expect(redactUrl("/a?access_token=1&API_KEY=2&q=3&token")).toBe("/a?access_token=[redacted]&API_KEY=[redacted]&q=3&token=[redacted]");
    expect(redactUrl("/a?q=token%3Dabc")).toBe("/a?q=token%3Dabc");
    expect(redactUrl("/plain/path")).toBe("/plain/path");
    expect(redactUrl("/a?tok+en=1&%74oken=2")).toBe("/a?tok+en=1&%74oken=[redacted]");
  });

  it("redacts every parameter the token reader would accept (URLSearchParams decoding)", () => {
    for (const name of ["token", "tok%65n", "%74%6f%6b%65%6e", "to%6Ben"]) {
      const url = `/ws/c?${name}=secret`;
      expect(new URL(url, "http://x").searchParams.get("token"), name).toBe("secret");
      expect(redactUrl(url)).not.toContain("secret");
    }
  });
});

describe("toHttpError for malformed percent-encoding", () => {
  it("is a 400 with the catalogue's 400 code (INVALID_JSON), not a 500", () => {
    let thrown: unknown;
    try {
      decodeURIComponent("%ZZ");
    } catch (error) {
      thrown = error;
    }
    expect(toHttpError(thrown, false)).toMatchObject({ status: 400, code: "INVALID_JSON" });
  });
});

describe("resolveStaticFile", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "kaygraph-static-"));
  const root = path.join(dir, "public");
  mkdirSync(path.join(root, "sub"), { recursive: true });
  writeFileSync(path.join(root, "index.html"), "i");
  writeFileSync(path.join(root, "sub", "a.txt"), "a");
  writeFileSync(path.join(root, ".env"), "x");
  writeFileSync(path.join(dir, "outside.txt"), "o");
  symlinkSync(path.join(dir, "outside.txt"), path.join(root, "out.txt"));
  symlinkSync(dir, path.join(root, "up"));
  symlinkSync(path.join(root, ".env"), path.join(root, "env.txt"));
  symlinkSync(path.join(root, "sub", "a.txt"), path.join(root, "in.txt"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("serves files and folder indexes whose real path is inside the root", async () => {
    expect(await resolveStaticFile(root, "/")).toBe(path.join(root, "index.html"));
    expect(await resolveStaticFile(root, "/sub/a.txt")).toBe(path.join(root, "sub", "a.txt"));
    expect(await resolveStaticFile(root, "/in.txt")).toBe(path.join(root, "sub", "a.txt"));
    expect(await resolveStaticFile(root, "/sub/%61.txt")).toBe(path.join(root, "sub", "a.txt"));
  });

  it("refuses symlinks out of the root, dotfiles (also behind a link), traversal, NUL and bad encoding", async () => {
    for (const url of ["/out.txt", "/up/outside.txt", "/env.txt", "/.env", "/../outside.txt", "/sub/..%2f..%2foutside.txt", "/a%00.txt", "/%ZZ", "/missing"]) {
      expect(await resolveStaticFile(root, url), url).toBeUndefined();
    }
  });
});
