import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Errors } from "../../../src/errors.js";

const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8");

describe("README error catalogue", () => {
  it("lists every KG_* code with its exit code", () => {
    for (const spec of Object.values(Errors)) {
      const line = readme.split("\n").find((l) => l.startsWith(`| \`${spec.code}\` |`));
      expect(line, `README has no error row for ${spec.code}`).toBeDefined();
      expect(line!.split("|")[2]!.trim(), `${spec.code} exit code`).toBe(String(spec.exit));
    }
    expect(readme).toMatch(/^\| `KG_INTERNAL` \| 1 \|/m);
  });
});
