import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCli, type CliHandle } from "../helpers/cli.js";
import { PACKAGE_JSON } from "../helpers/fixtures.js";
import { until } from "../helpers/load.js";
import { linkPackages, writeTree } from "../helpers/tmp-project.js";
import { sseEvents } from "../unit/server/ws-client.js";

/**
 * A graph written as PocketFlow-TS code (params-typed nodes, a BatchFlow and a ParallelBatchNode with two type
 * arguments, `this._params` as an index), importing `kaygraph/pocketflow`, plus kaygraph's `emit`.
 */
const LIBRARY_GRAPH = `
import { defineGraph } from "kaygraph";
import { BatchFlow, Flow, Node, ParallelBatchNode } from "kaygraph/pocketflow";
import { z } from "zod";

type Library = {
  files: Record<string, string>;
  words: Record<string, number>;
  shouted: Record<string, string[]>;
  output?: { total: number; words: Record<string, number>; shouted: Record<string, string[]> };
};
type FileParams = { filename: string; suffix: string };

class CountWords extends Node<Library, FileParams> {
  async prep(shared: Library): Promise<string> {
    return shared.files[this._params.filename] ?? "";
  }
  async exec(text: string): Promise<number> {
    return text.split(/\\s+/).filter(Boolean).length;
  }
  async post(shared: Library, _text: string, count: number): Promise<string | undefined> {
    shared.words[this._params.filename] = count;
    this.emit({ file: this._params.filename, words: count });
    return undefined;
  }
}

class Shout extends ParallelBatchNode<Library, FileParams> {
  async prep(shared: Library): Promise<string[]> {
    return (shared.files[this._params.filename] ?? "").split(/\\s+/).filter(Boolean);
  }
  async exec(word: string): Promise<string> {
    return word.toUpperCase() + this._params.suffix;
  }
  async post(shared: Library, _words: string[], shouted: string[]): Promise<string | undefined> {
    shared.shouted[this._params.filename] = shouted;
    return undefined;
  }
}

class EachFile extends BatchFlow<Library, { suffix: string }, Array<{ filename: string }>> {
  async prep(shared: Library): Promise<Array<{ filename: string }>> {
    return Object.keys(shared.files).sort().map((filename) => ({ filename }));
  }
}

class Summarise extends Node<Library> {
  async post(shared: Library): Promise<string | undefined> {
    const total = Object.values(shared.words).reduce((a, b) => a + b, 0);
    shared.output = { total, words: shared.words, shouted: shared.shouted };
    return "done";
  }
}

export default defineGraph({
  name: "library",
  input: z.object({ files: z.record(z.string(), z.string()) }),
  output: z.object({ total: z.number(), words: z.record(z.string(), z.number()), shouted: z.record(z.string(), z.array(z.string())) }),
  shared: (input): Library => ({ files: input.files, words: {}, shouted: {} }),
  graph: () => {
    const count = new CountWords();
    count.next(new Shout());
    const each = new EachFile(count);
    each.next(new Summarise());
    return new Flow<Library, { suffix: string }>(each).setParams({ suffix: "!" });
  },
});
`;

const INPUT = { files: { "b.txt": "four five", "a.txt": "one two three" } };
const OUTPUT = { total: 5, words: { "a.txt": 3, "b.txt": 2 }, shouted: { "a.txt": ["ONE!", "TWO!", "THREE!"], "b.txt": ["FOUR!", "FIVE!"] } };

const post = (url: string, body: unknown) => fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

describe("a PocketFlow-TS graph (kaygraph/pocketflow) on kaygraph serve", () => {
  let dir: string;
  let server: CliHandle;
  let base: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "kaygraph-"));
    await writeTree(dir, { "package.json": PACKAGE_JSON, "graphs/library.ts": LIBRARY_GRAPH, "kaygraph.config.json": { log: { level: "warn" } } });
    await linkPackages(dir);
    server = startCli(["serve", "--port", "0", "--host", "127.0.0.1"], { cwd: dir, autoStop: false });
    base = `http://127.0.0.1:${await server.ready()}`;
  });

  afterAll(async () => {
    await server?.stop();
    if (dir && process.env.KAYGRAPH_KEEP_TMP !== "1") await rm(dir, { recursive: true, force: true });
  });

  it("answers a sync run", async () => {
    const res = await post(`${base}/api/v1/library`, INPUT);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { result: unknown; metadata: { graph: string; version: number } };
    expect(body.result).toEqual(OUTPUT);
    expect(body.metadata).toMatchObject({ graph: "library", version: 1 });
  });

  it("runs it as a background task", async () => {
    const res = await post(`${base}/api/v1/library/async`, INPUT);
    expect(res.status).toBe(202);
    const { task_id, check_url } = (await res.json()) as { task_id: string; check_url: string };
    let task: { status: string; result: unknown } = { status: "pending", result: null };
    await until(async () => {
      task = (await (await fetch(`${base}${check_url}`)).json()) as typeof task;
      return task.status === "completed" || task.status === "failed";
    }, `task ${task_id} to finish`, 60_000);
    expect(task).toMatchObject({ status: "completed", result: OUTPUT });
  });

  it("streams its events: node steps of the batch flows, emitted chunks, then the validated result", async () => {
    const events = await sseEvents(await post(`${base}/api/v1/library/stream`, INPUT));
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    const steps = events.filter((e) => e.type === "node_start").map((e) => e.node);
    expect(steps).toEqual(["EachFile", "CountWords", "Shout", "CountWords", "Shout", "Summarise"]);
    expect(events.filter((e) => e.type === "data").map((e) => e.chunk)).toEqual([
      { file: "a.txt", words: 3 },
      { file: "b.txt", words: 2 },
    ]);
    expect(events.at(-1)).toMatchObject({ type: "result", result: OUTPUT });
  });
});
