import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it, onTestFinished } from "vitest";
import { loadGraphFiles } from "../../../src/definition/load.js";
import { PrestartedThreads, ThreadExecutor } from "../../../src/runs/threads/thread-executor.js";

const GRAPH = fileURLToPath(new URL("./fixtures/shout-graph.ts", import.meta.url));
const ROOT = path.dirname(GRAPH);

async function shout(executor: ThreadExecutor, text: string): Promise<unknown> {
  const graph = (await loadGraphFiles([GRAPH], ROOT)).find("shout", 1);
  if (graph === undefined) throw new Error("the fixture graph did not load");
  return executor.execute(graph, { input: { text }, requestId: `r-${text}`, runId: `r-${text}` }, {});
}

describe("run threads started ahead of their project (dev standby)", () => {
  it("load the graphs when an executor takes them over, even while still warming up, and run them", { timeout: 60_000 }, async () => {
    const prestarted = new PrestartedThreads(2, 256);
    // Set after the threads started (as a dev reload applies the project's .env): the graphs see it.
    process.env.KAYGRAPH_TEST_SHOUT_SUFFIX = "!";
    onTestFinished(() => void delete process.env.KAYGRAPH_TEST_SHOUT_SUFFIX);
    // Taken over at once: the load order reaches threads that are still importing the loader and kaygraph.
    const executor = new ThreadExecutor({ count: 2, maxHeapMb: 256, killGraceMs: 500, load: { files: [GRAPH], root: ROOT } }, prestarted);
    onTestFinished(() => executor.close());
    await executor.start();
    expect(executor.pool.size).toBe(2);
    expect(await Promise.all([shout(executor, "one"), shout(executor, "two")])).toEqual([{ text: "ONE!" }, { text: "TWO!" }]);
  });

  it("a replacement of a prestarted thread loads the project's graphs itself", { timeout: 60_000 }, async () => {
    const executor = new ThreadExecutor({ count: 1, maxHeapMb: 256, killGraceMs: 500, load: { files: [GRAPH], root: ROOT } }, new PrestartedThreads(1, 256));
    onTestFinished(() => executor.close());
    await executor.start();
    // End the only thread (as a terminated run does): its replacement starts at once, and must load the
    // project's graphs by itself (a deferred replacement would wait for an order that never comes).
    const first = executor.pool.place({ id: -1, onMessage: () => undefined, onUnsent: () => undefined, onThreadEnd: () => undefined });
    const firstId = first.threadId;
    first.terminate("test");
    expect(executor.pool.size).toBe(1);
    expect(await shout(executor, "after")).toEqual({ text: "AFTER" + (process.env.KAYGRAPH_TEST_SHOUT_SUFFIX ?? "") });
    expect(executor.pool.place({ id: -2, onMessage: () => undefined, onUnsent: () => undefined, onThreadEnd: () => undefined }).threadId).not.toBe(firstId);
  });
});
