import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli, startCli } from "../helpers/cli.js";
import { basicProject } from "../helpers/fixtures.js";
import { tmpProject } from "../helpers/tmp-project.js";

describe("kaygraph run", () => {
  it("takes input from --input, --input-file and stdin; stdout is the output JSON alone", async () => {
    const cwd = await tmpProject(basicProject({ "in.json": { text: "from file" } }));
    const a = await runCli(["run", "echo", "--input", '{"text":"hi"}'], { cwd });
    expect(a.exitCode).toBe(0);
    expect(a.stdout).toBe('{"text":"hi"}\n');
    expect(a.stderr).toContain("✓ echo → default");
    const b = await runCli(["run", "echo", "--input-file", "in.json", "--quiet"], { cwd });
    expect(b).toMatchObject({ exitCode: 0, stdout: '{"text":"from file"}\n', stderr: "" });
    const c = await runCli(["run", "echo"], { cwd, input: '{"text":"piped"}' });
    expect(c.stdout).toBe('{"text":"piped"}\n');
    const d = await runCli(["run", "echo", "--input-file", "-"], { cwd, input: '{"text":"dash"}' });
    expect(d.stdout).toBe('{"text":"dash"}\n');
  });

  it("runs graph@version and the highest version by default", async () => {
    const cwd = await tmpProject(basicProject());
    expect((await runCli(["run", "loop@2", "--input", '{"times":3}'], { cwd })).stdout).toBe('{"n":3}\n');
    expect((await runCli(["run", "loop", "--input", '{"times":2}'], { cwd })).stdout).toBe('{"n":2}\n');
  });

  it("exits 2 for bad JSON, invalid input, unknown graphs and versions, with readable messages", async () => {
    const cwd = await tmpProject(basicProject());
    const badJson = await runCli(["run", "echo", "--input", "{nope"], { cwd });
    expect(badJson.exitCode).toBe(2);
    expect(badJson.stderr).toContain("not valid JSON");
    const invalid = await runCli(["run", "echo", "--input", '{"text":5}'], { cwd });
    expect(invalid.exitCode).toBe(2);
    expect(invalid.stderr).toContain("text: Invalid input: expected string, received number");
    expect(invalid.stdout).toBe("");
    const unknown = await runCli(["run", "nope"], { cwd });
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain("Available: echo@1, loop@2");
    const version = await runCli(["run", "loop@9"], { cwd });
    expect(version.exitCode).toBe(2);
    expect(version.stderr).toContain('Graph "loop" has no version 9');
    const missingFile = await runCli(["run", "echo", "--input-file", "missing.json"], { cwd });
    expect(missingFile.exitCode).toBe(2);
    for (const r of [badJson, invalid, unknown, version, missingFile]) expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("a graph that throws: message and failing node on stderr, exit 1; --debug adds the stack", async () => {
    const cwd = await tmpProject(basicProject());
    const r = await runCli(["run", "echo", "--input", '{"text":"x","fail":true}'], { cwd });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("echo@1 failed in node echo: echo was told to fail");
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const debug = await runCli(["run", "echo", "--input", '{"text":"x","fail":true}', "--debug"], { cwd });
    expect(debug.stderr).toMatch(/\n\s+at /);
  });

  it("--timeout aborts the run through its signal and exits 1", async () => {
    const cwd = await tmpProject(basicProject());
    const r = await runCli(["run", "echo", "--input", '{"text":"x","waitMs":60000}', "--timeout", "200"], { cwd });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("KG_RUN_TIMEOUT");
    expect(r.stderr).toContain("timeout of 200 ms");
  });

  it("Ctrl-C aborts the run and exits 130", async () => {
    const cwd = await tmpProject(basicProject());
    const child = startCli(["run", "echo", "--input", '{"text":"x","waitMs":60000}'], { cwd });
    await child.waitFor("▸ echo");
    child.kill("SIGINT");
    const { exitCode } = await child.exited();
    expect(exitCode).toBe(130);
    expect(child.output().stderr).toContain("KG_INTERRUPTED");
  });

  it("--events prints every run event as one JSON line, in order, ending with the result", async () => {
    const cwd = await tmpProject(basicProject());
    const r = await runCli(["run", "loop", "--input", '{"times":2}', "--events"], { cwd });
    expect(r.exitCode).toBe(0);
    const events = r.stdout.trim().split("\n").map((line) => JSON.parse(line) as { type: string; seq: number; node?: string; action?: string; result?: unknown });
    expect(events.map((e) => e.type)).toEqual(["start", "node_start", "node_end", "node_start", "node_end", "node_start", "node_end", "result"]);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(events.filter((e) => e.type === "node_end").map((e) => `${e.node}:${e.action}`)).toEqual(["check:again", "check:stop", "finish:done"]);
    expect(events.at(-1)).toMatchObject({ type: "result", result: { n: 2 } });
  });

  it("names the file of a graph that fails to load, with file:line, exit 2", async () => {
    const cwd = await tmpProject(basicProject({ "graphs/broken.ts": 'const a: number = 1;\nthrow new Error("broken on import " + a);\n' }));
    const r = await runCli(["run", "echo", "--input", '{"text":"x"}'], { cwd });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("graphs/broken.ts");
    expect(r.stderr).toContain("broken on import 1");
    expect(r.stderr).toMatch(/broken\.ts:2:\d+/);
    await writeFile(path.join(cwd, "graphs/broken.ts"), "const = ;\n");
    const syntax = await runCli(["run", "echo"], { cwd });
    expect(syntax.exitCode).toBe(2);
    expect(syntax.stderr).toMatch(/syntax error: .*broken\.ts:1:\d+/);
  });

  it("rejects duplicate names, invalid names and files without a definition", async () => {
    const dup = await tmpProject(
      basicProject({ "graphs/echo2.ts": 'import { defineGraph, Graph, Node } from "kaygraph";\nimport { z } from "zod";\nexport default defineGraph({ name: "echo", input: z.object({}), output: z.object({}), graph: new Graph(new Node()) });\n' }),
    );
    const a = await runCli(["run", "echo"], { cwd: dup });
    expect(a.exitCode).toBe(2);
    expect(a.stderr).toMatch(/"echo" version 1 is defined twice: in graphs\/echo\.ts .* and in graphs\/echo2\.ts/);
    const helper = await tmpProject(basicProject({ "graphs/helpers.ts": "export const x = 1;\n", "graphs/_private.ts": "export const y = 2;\n" }));
    const b = await runCli(["run", "echo"], { cwd: helper });
    expect(b.exitCode).toBe(2);
    expect(b.stderr).toContain("graphs/helpers.ts exports no graph definition");
    const badName = await tmpProject(basicProject({ "graphs/bad name.ts": 'export { default } from "./echo.ts";\n' }));
    const c = await runCli(["run", "echo"], { cwd: badName });
    expect(c.exitCode).toBe(2);
    expect(c.stderr).toContain('graph name "bad name" is not URL-safe');
  });
});
