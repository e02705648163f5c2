/** `kaygraph run`'s output: serialised once, pretty on a terminal. */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { runOnce } from "../../../src/cli/run-once.js";
import { resolveConfig } from "../../../src/config/load.js";

const SRC = path.resolve(import.meta.dirname, "../../../src");

/** A project whose one graph returns an output that counts how often it is serialised (its toJSON calls). */
async function countingProject(): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), "kaygraph-run-once-"));
  onTestFinished(() => rm(root, { recursive: true, force: true }));
  await mkdir(path.join(root, "graphs"));
  await writeFile(
    path.join(root, "graphs", "count.ts"),
    `import { z } from "zod";
import { defineGraph } from ${JSON.stringify(path.join(SRC, "definition/define.js"))};
import { Graph, Node } from ${JSON.stringify(path.join(SRC, "graph/index.js"))};
export const calls = { toJSON: 0 };
class Out extends Node {
  override async exec() { return { toJSON: () => (calls.toJSON++, { a: [1, 2], calls: calls.toJSON }) }; }
  override post(shared: { output?: unknown }, _p: unknown, out: unknown) { shared.output = out; return undefined; }
}
export default defineGraph({ name: "count", input: z.object({}), output: z.any(), graph: () => new Graph(new Out()) });
`,
  );
  return root;
}

/** Makes stdout look like a terminal (or not) for this test. */
function stdoutIsTTY(value: boolean): void {
  const had = Object.getOwnPropertyDescriptor(process.stdout, "isTTY");
  Object.defineProperty(process.stdout, "isTTY", { value, configurable: true, writable: true });
  onTestFinished(() => {
    if (had) Object.defineProperty(process.stdout, "isTTY", had);
    else delete (process.stdout as { isTTY?: boolean }).isTTY;
  });
}

describe("runOnce output", () => {
  it("on a terminal: pretty JSON, serialised once", async () => {
    const root = await countingProject();
    stdoutIsTTY(true);
    const out = await runOnce(resolveConfig({ log: { level: "silent" } }, root), "count", { input: "{}", events: false, quiet: true });
    expect(out).toBe(`${JSON.stringify({ a: [1, 2], calls: 1 }, null, 2)}\n`);
  });

  it("elsewhere: one compact line", async () => {
    const root = await countingProject();
    stdoutIsTTY(false);
    const out = await runOnce(resolveConfig({ log: { level: "silent" } }, root), "count", { input: "{}", events: false, quiet: true });
    expect(out).toBe(`${JSON.stringify({ a: [1, 2], calls: 1 })}\n`);
  });
});
