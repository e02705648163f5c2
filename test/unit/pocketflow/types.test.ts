import { execa } from "execa";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { tmpProject } from "../../helpers/tmp-project.js";

const root = path.resolve(import.meta.dirname, "../../..");
const FIXTURES = path.join(root, "test/fixtures/pocketflow");
const TSC = path.join(root, "node_modules/typescript/bin/tsc");
const OUR_IMPORT = /"\.\.\/\.\.\/\.\.\/src\/pocketflow\/index\.js"/g;

describe("kaygraph/pocketflow types", () => {
  // One tsc program: the fixtures against kaygraph/pocketflow (types.ts holds the expectTypeOf checks and the
  // expected errors), plus nodes.ts unchanged but for its import, against the pocketflow package itself
  // — so the fixtures are PocketFlow-TS code, and that code compiles on both.
  it("compiles PocketFlow-TS style nodes and flows, strict, against kaygraph and against pocketflow", { timeout: 180_000 }, async () => {
    const dir = await tmpProject({}, { linkKaygraph: false });
    const nodes = readFileSync(path.join(FIXTURES, "nodes.ts"), "utf8");
    expect(nodes).toMatch(OUR_IMPORT);
    writeFileSync(path.join(dir, "upstream-nodes.ts"), nodes.replace(OUR_IMPORT, '"pocketflow"'));
    const tsconfig = {
      extends: path.join(FIXTURES, "tsconfig.json"),
      compilerOptions: { typeRoots: [path.join(root, "node_modules/@types")], paths: { pocketflow: [path.join(root, "node_modules/pocketflow/dist/index.d.ts")] } },
      include: [path.join(FIXTURES, "*.ts"), "upstream-nodes.ts"],
    };
    writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify(tsconfig));
    const tsc = await execa(process.execPath, [TSC, "-p", "tsconfig.json", "--listFilesOnly"], { cwd: dir, reject: false });
    const files = tsc.stdout.split("\n");
    expect(files).toContain(path.join(dir, "upstream-nodes.ts"));
    expect(files).toContain(path.join(FIXTURES, "types.ts"));
    const check = await execa(process.execPath, [TSC, "-p", "tsconfig.json"], { cwd: dir, reject: false });
    expect(check.exitCode, check.stdout).toBe(0);
  });
});
