import { execa } from "execa";
import { readFileSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { tmpProject } from "../../helpers/tmp-project.js";

const root = path.resolve(import.meta.dirname, "../../..");
const NODES = path.join(root, "test/fixtures/pocketflow/nodes.ts");
const TSX = path.join(root, "node_modules/tsx/dist/esm/index.mjs");
const OUR_IMPORT = /"\.\.\/\.\.\/\.\.\/src\/pocketflow\/index\.js"/g;

/** Runs the fixture flows of one copy of nodes.ts and prints what they left in their shared stores. */
const SCRIPT = `
const [ours, theirs] = await Promise.all([import(${JSON.stringify(NODES)}), import("./upstream-nodes.ts")]);
const results = [];
for (const m of [ours, theirs]) {
  const library = m.library({ "a.txt": "one two three", "b.txt": "four five", "c.txt": "six" });
  await m.libraryFlow("?").run(library);
  const flaky = m.library({});
  await m.flakyFlow().run(flaky);
  results.push({ runtime: m.libraryFlow().constructor.name, library, flaky });
}
console.log(JSON.stringify(results));
`;

describe("kaygraph/pocketflow semantics", () => {
  // The same PocketFlow-TS code, run once on kaygraph and once on the pocketflow package: batch flows merging
  // params per item, a parallel batch node, flow params reaching every node, retries and the fallback.
  it("leaves the same shared store as the pocketflow package for the same code", { timeout: 120_000 }, async () => {
    const dir = await tmpProject({}, { linkKaygraph: false });
    writeFileSync(path.join(dir, "upstream-nodes.ts"), readFileSync(NODES, "utf8").replace(OUR_IMPORT, '"pocketflow"'));
    writeFileSync(path.join(dir, "package.json"), JSON.stringify({ type: "module" }));
    writeFileSync(path.join(dir, "parity.ts"), SCRIPT);
    symlinkSync(path.join(root, "node_modules"), path.join(dir, "node_modules"), "dir");
    const run = await execa(process.execPath, ["--import", TSX, "parity.ts"], { cwd: dir, reject: false, timeout: 60_000 });
    expect(run.exitCode, run.stderr).toBe(0);
    const [{ runtime: ourRuntime, ...ours }, { runtime: theirRuntime, ...theirs }] = JSON.parse(run.stdout) as Array<{ runtime: string }>;
    // Two runtimes indeed: kaygraph's Flow is its Graph class.
    expect([ourRuntime, theirRuntime]).toEqual(["Graph", "Flow"]);
    expect(ours).toEqual(theirs);
    expect(ours).toMatchObject({
      library: { words: { "a.txt": 3, "b.txt": 2, "c.txt": 1 }, shouted: { "c.txt": ["SIX?"] }, total: 6, log: ["count:a.txt", "count:b.txt", "count:c.txt", "report:6"] },
      flaky: { log: ["attempt 3 failed of 3"] },
    });
  });
});
