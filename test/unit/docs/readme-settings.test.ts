import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SETTINGS } from "../../../src/config/settings.js";

const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8");

describe("README settings table", () => {
  it("documents every setting's env variables and flag", () => {
    for (const row of SETTINGS) {
      const line = readme.split("\n").find((l) => l.startsWith("| `") && l.includes(`\`${row.path}\``));
      expect(line, `README has no settings row for ${row.path}`).toBeDefined();
      for (const env of row.env) expect(line, `${row.path} row lacks ${env}`).toContain(`\`${env}\``);
      if (row.flag) expect(line, `${row.path} row lacks ${row.flag}`).toContain(`\`${row.flag}`);
    }
  });
});
