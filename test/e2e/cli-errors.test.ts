import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { PACKAGE_JSON, basicProject } from "../helpers/fixtures.js";
import { tmpProject } from "../helpers/tmp-project.js";

/** A usage/definition error: exit 2, the catalogue code, no stack trace, nothing on stdout. */
function expectExit2(r: { exitCode: number; stdout: string; stderr: string }, code: string): void {
  expect(r.exitCode, r.stderr).toBe(2);
  expect(r.stderr).toContain(`[${code}]`);
  expect(r.stdout).toBe("");
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe("kaygraph CLI error paths", () => {
  it("a graph file whose default export is not a definition names the file and what to export", async () => {
    const cwd = await tmpProject(basicProject({ "graphs/settings.ts": "export default { foo: 1 };\n" }));
    const r = await runCli(["run", "echo", "--input", '{"text":"x"}'], { cwd });
    expectExit2(r, "KG_DEFINITION_INVALID");
    expect(r.stderr).toContain("graphs/settings.ts: the default export is not a graph definition.");
    expect(r.stderr).toContain("Default-export defineGraph({...}) from each graph file");
  });

  it("a definition without input/output schemas names the file and each missing schema", async () => {
    const noSchemas = 'import { defineGraph, Graph, Node } from "kaygraph";\nexport default defineGraph({ graph: new Graph(new Node()) });\n';
    const cwd = await tmpProject(basicProject({ "graphs/loose.ts": noSchemas }));
    const r = await runCli(["graphs"], { cwd });
    expectExit2(r, "KG_DEFINITION_INVALID");
    expect(r.stderr).toContain("graphs/loose.ts: input: must be a zod schema");
    expect(r.stderr).toMatch(/\n\s+output: must be a zod schema/);
    expect(r.stderr).toContain("README.md#graph-definitions");
  });

  it("kaygraph worker refuses --concurrency 0 (that is for an API-only serve)", async () => {
    const cwd = await tmpProject(basicProject());
    const r = await runCli(["worker", "--concurrency", "0"], { cwd });
    expectExit2(r, "KG_USAGE");
    expect(r.stderr).toContain("tasks.concurrency must be at least 1 here");
  });

  it("a missing graphs directory names the directory and how to fix it", async () => {
    const cwd = await tmpProject({ "package.json": PACKAGE_JSON });
    const r = await runCli(["run", "echo"], { cwd });
    expectExit2(r, "KG_GRAPHS_DIR_MISSING");
    expect(r.stderr).toContain(`No graphs directory at ${path.join(cwd, "graphs")}.`);
    expect(r.stderr).toContain("Create it, or point `graphs` in kaygraph.config.ts at your graph files.");
  });

  it("a graphs directory without definitions names the directory and what to add", async () => {
    const cwd = await tmpProject({ "package.json": PACKAGE_JSON, "graphs/_helpers.ts": "export const x = 1;\n", "graphs/notes.md": "# not a graph\n" });
    const r = await runCli(["graphs"], { cwd });
    expectExit2(r, "KG_NO_GRAPHS");
    expect(r.stderr).toContain(`No graph definitions found in ${path.join(cwd, "graphs")}.`);
    expect(r.stderr).toContain("Add a file to graphs/ that default-exports defineGraph({...}).");
  });

  it("--input together with --input-file is a usage error, reported before the project loads", async () => {
    const ok = await tmpProject(basicProject({ "in.json": { text: "file" } }));
    const r = await runCli(["run", "echo", "--input", '{"text":"x"}', "--input-file", "in.json"], { cwd: ok });
    expectExit2(r, "KG_USAGE");
    expect(r.stderr).toContain("Give the input either with --input or with --input-file, not both.");
    expect(r.stderr).toContain("kaygraph --help");
    // Reported first even where the project itself would fail to load.
    const empty = await tmpProject({ "package.json": PACKAGE_JSON });
    const first = await runCli(["run", "echo", "--input", "{}", "--input-file", "in.json"], { cwd: empty });
    expectExit2(first, "KG_USAGE");
  });

  it("--timeout abc names the flag, the bad value and what is allowed", async () => {
    const cwd = await tmpProject(basicProject());
    const r = await runCli(["run", "echo", "--input", '{"text":"x"}', "--timeout", "abc"], { cwd });
    expectExit2(r, "KG_USAGE");
    expect(r.stderr).toContain('--timeout must be a whole number of milliseconds >= 1, got "abc".');
    expect(r.stderr).toContain("Run `kaygraph --help` for usage.");
  });

  it("an unknown command exits 2 and points at --help", async () => {
    const r = await runCli(["bogus"]);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("unknown command 'bogus'");
    expect(r.stderr).toContain('run "kaygraph --help" for usage');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("a runaway loop reports MAX_STEPS with the node it stopped, not the graph around it, exit 1", async () => {
    const runaway = `
import { Graph, Node, defineGraph } from "kaygraph";
import { z } from "zod";
class Ping extends Node { post() { return "again"; } }
export default defineGraph({
  input: z.object({}),
  output: z.object({}),
  maxSteps: 10,
  graph: () => {
    const a = new Ping({ nodeId: "a" });
    const b = new Ping({ nodeId: "b" });
    a.on("again", b);
    b.on("again", a);
    return new Graph(new Graph(a, { nodeId: "sub" }));
  },
});
`;
    const cwd = await tmpProject({ "package.json": PACKAGE_JSON, "graphs/runaway.ts": runaway });
    const r = await runCli(["run", "runaway", "--input", "{}", "--quiet"], { cwd });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('runaway@1 failed: The run exceeded maxSteps (10) before node "b"');
    expect(r.stderr).not.toContain("in node sub");
  });
});

describe("graph and config files in JavaScript", () => {
  it("loads .mjs and .js graph files and a .mjs config file", async () => {
    const graph = (name: string) => `
import { Graph, Node, defineGraph } from "kaygraph";
import { z } from "zod";
class Hi extends Node { post(shared) { shared.output = { from: "${name}", text: shared.input.text }; } }
export default defineGraph({ input: z.object({ text: z.string() }), output: z.object({ from: z.string(), text: z.string() }), graph: () => new Graph(new Hi()) });
`;
    const cwd = await tmpProject({
      "package.json": PACKAGE_JSON,
      "kaygraph.config.mjs": 'export default { graphs: "flows", server: { port: 4321 } };\n',
      "flows/plain.mjs": graph("mjs"),
      "flows/common.js": graph("js"),
    });
    const list = await runCli(["graphs", "--json"], { cwd });
    expect(list.exitCode, list.stderr).toBe(0);
    expect((JSON.parse(list.stdout) as Array<{ name: string }>).map((g) => g.name)).toEqual(["common", "plain"]);
    const mjs = await runCli(["run", "plain", "--input", '{"text":"a"}', "--quiet"], { cwd });
    expect(mjs).toMatchObject({ exitCode: 0, stdout: '{"from":"mjs","text":"a"}\n' });
    const js = await runCli(["run", "common", "--input", '{"text":"b"}', "--quiet"], { cwd });
    expect(js).toMatchObject({ exitCode: 0, stdout: '{"from":"js","text":"b"}\n' });
    const config = await runCli(["config"], { cwd });
    expect(config.stdout).toMatch(/server\.port\s+4321\s+kaygraph\.config\.mjs/);
  });
});
