import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { startCli } from "../helpers/cli.js";
import { PACKAGE_JSON } from "../helpers/fixtures.js";
import { alive, steadyLoad, until } from "../helpers/load.js";
import { tmpProject } from "../helpers/tmp-project.js";

/** A graph whose answer is `greeting`, optionally slow, so tests can tell old code from new. */
const greetGraph = (greeting: string) => `
import { Graph, Node, defineGraph } from "kaygraph";
import { z } from "zod";
class Greet extends Node {
  async exec(input) {
    if (input.waitMs) await new Promise((r) => setTimeout(r, input.waitMs));
    return ${JSON.stringify(greeting)};
  }
  prep(shared) { return shared.input; }
  post(shared, _p, text) { shared.output = { text, pid: process.pid }; }
}
export default defineGraph({
  input: z.object({ waitMs: z.number().int().min(0).default(0) }),
  output: z.object({ text: z.string(), pid: z.number() }),
  graph: () => new Graph(new Greet()),
});
`;

async function ask(base: string, body: object = {}): Promise<{ text: string; pid: number }> {
  const res = await fetch(`${base}/api/v1/greet`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { result: { text: string; pid: number } }).result;
}

/** Child processes of `pid` (from /proc). */
function childPids(pid: number): number[] {
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
  return children === "" ? [] : children.split(/\s+/).map(Number);
}

async function devProject() {
  const cwd = await tmpProject({ "package.json": PACKAGE_JSON, "graphs/greet.ts": greetGraph("v1") });
  const dev = startCli(["dev", "--port", "0"], { cwd });
  const port = await dev.ready();
  await dev.waitFor("kaygraph: watcher ready");
  return { cwd, dev, base: `http://127.0.0.1:${port}`, file: path.join(cwd, "graphs/greet.ts") };
}

describe("kaygraph dev", () => {
  it("listens on 127.0.0.1 with human-readable logs", async () => {
    const { dev, base } = await devProject();
    expect(dev.output().stderr).toContain("kaygraph dev: 1 worker serving http://127.0.0.1:");
    await ask(base);
    await dev.waitFor(/POST \/api\/v1\/greet 200/);
    expect(dev.output().stdout).not.toMatch(/^\{"level"/m);
  });

  it("reloads on save: new code answers, in-flight requests finish on the old code, no refused connection", async () => {
    const { dev, base, file } = await devProject();
    expect((await ask(base)).text).toBe("v1");
    const load = steadyLoad(`${base}/health`, { concurrency: 3 });
    await load.waitForOk(10);
    const slow = ask(base, { waitMs: 1200 });
    let metrics = "";
    await until(async () => /kaygraph_graph_runs_in_progress\{graph="greet",kind="sync"\} 1/.test((metrics = await (await fetch(`${base}/metrics`)).text())), "the slow run to start").catch((e: Error) => {
      throw new Error(`${e.message}\n${metrics.split("\n").filter((l) => l.includes("kaygraph_graph") || l.includes("http_request_duration_seconds_count")).join("\n")}\n${dev.output().stderr}`);
    });
    const mark = dev.mark();
    await writeFile(file, greetGraph("v2"));
    await dev.waitFor(/kaygraph: reloaded in \d+ ms \(graphs\/greet\.ts changed\)/, 30_000, mark);
    await dev.waitFor("kaygraph: ready port=", 5_000, mark);
    expect((await ask(base)).text).toBe("v2");
    expect((await slow).text).toBe("v1");
    await load.waitForOk(10);
    const result = await load.stop();
    expect(result.errors).toEqual([]);
  });

  it("requests on fresh connections during repeated reloads all get an answer", async () => {
    const { dev, base, file } = await devProject();
    const load = steadyLoad(`${base}/health`, { concurrency: 3, newConnections: true, timeoutMs: 5_000 });
    await load.waitForOk(10);
    for (let i = 0; i < 8; i++) {
      const mark = dev.mark();
      await writeFile(file, greetGraph(`round-${i}`));
      await dev.waitFor("kaygraph: ready port=", 30_000, mark);
    }
    await load.waitForOk(10);
    const result = await load.stop();
    expect(result.errors).toEqual([]);
    expect((await ask(base)).text).toBe("round-7");
  });

  it("keep-alive clients reusing their connections during repeated reloads never see a request fail", async () => {
    const { dev, base, file } = await devProject();
    // Keep-alive loops (one connection pool, as one client): some back to back, others idle for varied times, so
    // requests keep arriving on reused connections at every moment of each handover, idle sockets included.
    const pauses = [0, 0, 37, 113, 251, 19, 180, 290, 75, 240];
    const load = steadyLoad(`${base}/api/v1/greet`, {
      concurrency: 6,
      init: () => ({ method: "POST", headers: { "content-type": "application/json" }, body: "{}" }),
      pauseMs: (loop, n) => (loop < 2 ? 0 : (pauses[(n * 7 + loop * 3) % pauses.length] as number)),
    });
    await load.waitForOk(20);
    for (let i = 0; i < 10; i++) {
      const mark = dev.mark();
      await writeFile(file, greetGraph(`keep-${i}`));
      await dev.waitFor(/kaygraph: reloaded in \d+ ms/, 30_000, mark);
      await load.waitForOk(6);
      // Right after "reloaded", new code answers, whichever pooled connection the request takes.
      expect((await ask(base)).text).toBe(`keep-${i}`);
    }
    const result = await load.stop();
    expect(result.errors).toEqual([]);
  });

  it("keeps the last good code on a syntax error, prints file and line, recovers on the next save", async () => {
    const { dev, base, file } = await devProject();
    let mark = dev.mark();
    await writeFile(file, `${greetGraph("broken")}\nconst x = ;\n`);
    await dev.waitFor("kaygraph: reload failed", 30_000, mark);
    expect(dev.since(mark)).toMatch(/graphs\/greet\.ts:\d+:\d+/);
    // Reloaded in place: the generation query of the module's URL is no part of what the user sees.
    expect(dev.since(mark)).not.toContain("kg-gen");
    expect(dev.since(mark)).toContain("still serving the last good code");
    expect((await ask(base)).text).toBe("v1");
    mark = dev.mark();
    await writeFile(file, greetGraph("fixed"));
    await dev.waitFor("kaygraph: ready port=", 30_000, mark);
    expect((await ask(base)).text).toBe("fixed");
  });

  it("20 rapid saves end with one healthy server on the last code and no orphan processes", async () => {
    const { dev, base, file } = await devProject();
    const pids = new Set<number>([(await ask(base)).pid]);
    for (let i = 0; i < 20; i++) {
      await writeFile(file, greetGraph(`save-${i}`));
      await new Promise((r) => setImmediate(r));
    }
    await until(async () => {
      const answer = await ask(base);
      pids.add(answer.pid);
      return answer.text === "save-19";
    }, "the last save to be served", 60_000);
    const mark = dev.mark();
    // A short quiet period with no further reloads: the queue coalesced the saves.
    await until(async () => (await ask(base)).text === "save-19", "stable answers");
    expect(dev.since(mark)).not.toContain("reloaded in");
    // One line per reload: the burst makes one reload, plus at most one for saves seen during it (and one
    // spare for a watcher slowed by a loaded machine).
    const reloads = (dev.output().stderr.match(/kaygraph: reloaded in/g) ?? []).length;
    expect(reloads).toBeGreaterThanOrEqual(1);
    expect(reloads).toBeLessThanOrEqual(3);
    await dev.stop();
    await until(() => [...pids].every((pid) => !alive(pid)), "every worker to exit");
  });

  it("keeps two warm standbys: a settings change is served by one of them, another takes its place, none outlives dev", async () => {
    const { dev, base, file, cwd } = await devProject();
    const serving = (await ask(base)).pid;
    // The primary's worker processes (Linux): the serving one and the standbys.
    const workers = () => childPids(dev.pid);
    await until(() => workers().length === 3, "the serving worker and two standbys");
    const standbys = workers().filter((pid) => pid !== serving);
    // A graph save reloads in place; settings (here a new .env) need a new process.
    await writeFile(file, greetGraph("v2"));
    await writeFile(path.join(cwd, ".env"), "SOME_SETTING=1\n");
    await until(async () => {
      const answer = await ask(base);
      return answer.text === "v2" && answer.pid !== serving;
    }, "the change to be served by another process");
    const after = await ask(base);
    expect(standbys).toContain(after.pid);
    await until(() => workers().length === 3 && !workers().includes(serving), "the old worker gone and a new standby");
    const seen = [serving, ...workers()];
    await dev.stop();
    await until(() => seen.every((pid) => !alive(pid)), "every worker and standby to exit");
  });

  it("standbys killed with -9 before a settings change: the change is still served, by a fresh worker", async () => {
    const { dev, base, file, cwd } = await devProject();
    const serving = (await ask(base)).pid;
    await until(() => childPids(dev.pid).length === 3, "the serving worker and two standbys");
    const standbys = childPids(dev.pid).filter((pid) => pid !== serving);
    for (const pid of standbys) process.kill(pid, "SIGKILL");
    await until(() => standbys.every((pid) => !alive(pid)), "the standbys to die");
    await writeFile(file, greetGraph("after-kill"));
    await writeFile(path.join(cwd, ".env"), "SOME_SETTING=1\n");
    await until(async () => {
      const answer = await ask(base);
      return answer.text === "after-kill" && answer.pid !== serving;
    }, "the change to be served by another process", 60_000);
    expect(standbys).not.toContain((await ask(base)).pid);
    // Standbys come back after that reload (the old worker gone: the new one and two standbys).
    await until(() => childPids(dev.pid).length === 3 && !childPids(dev.pid).includes(serving), "two standbys again", 30_000);
    await dev.stop();
  });

  it("after a reload a graph that runs inline still runs on the main thread, and a threaded one in a thread", async () => {
    // Only threaded graphs' files go to the run threads (a standby's prestarted ones included).
    const cwd = await tmpProject({ "package.json": PACKAGE_JSON, "graphs/greet.ts": whereGraph("greet", "v1"), "graphs/inline.ts": whereGraph("inline", "v1", "inline") });
    const dev = startCli(["dev", "--port", "0"], { cwd });
    const base = `http://127.0.0.1:${await dev.ready()}`;
    await dev.waitFor("kaygraph: watcher ready");
    const where = async (graph: string) => ((await (await fetch(`${base}/api/v1/${graph}`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })).json()) as { result: { text: string; main: boolean } }).result;
    expect(await where("greet")).toEqual({ text: "v1", main: false });
    expect(await where("inline")).toEqual({ text: "v1", main: true });
    const mark = dev.mark();
    await writeFile(path.join(cwd, "graphs/greet.ts"), whereGraph("greet", "v2"));
    await dev.waitFor("kaygraph: ready port=", 30_000, mark);
    expect(await where("greet")).toEqual({ text: "v2", main: false });
    expect(await where("inline")).toEqual({ text: "v1", main: true });
  });

  it("a save of graph code reloads in place: same process, a changed helper module seen in threads and inline", async () => {
    const cwd = await tmpProject({
      "package.json": PACKAGE_JSON,
      "lib/text.ts": `export const text = "lib-1";\n`,
      "graphs/greet.ts": helperGraph("greet"),
      "graphs/inline.ts": helperGraph("inline", "inline"),
    });
    const dev = startCli(["dev", "--port", "0"], { cwd });
    const base = `http://127.0.0.1:${await dev.ready()}`;
    await dev.waitFor("kaygraph: watcher ready");
    const run = async (graph: string) => ((await (await fetch(`${base}/api/v1/${graph}`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })).json()) as { result: { text: string; pid: number; main: boolean } }).result;
    const before = await run("greet");
    expect(before).toMatchObject({ text: "lib-1", main: false });
    expect(await run("inline")).toMatchObject({ text: "lib-1", main: true, pid: before.pid });
    for (let i = 2; i <= 4; i++) {
      const mark = dev.mark();
      await writeFile(path.join(cwd, "lib/text.ts"), `export const text = "lib-${i}";\n`);
      await dev.waitFor(/kaygraph: reloaded in \d+ ms \(lib\/text\.ts changed\)/, 30_000, mark);
      expect(await run("greet")).toEqual({ text: `lib-${i}`, main: false, pid: before.pid });
      expect(await run("inline")).toEqual({ text: `lib-${i}`, main: true, pid: before.pid });
    }
    // A new graph file is found by the same in-place reload.
    const mark = dev.mark();
    await writeFile(path.join(cwd, "graphs/added.ts"), helperGraph("added"));
    await dev.waitFor(/kaygraph: reloaded in \d+ ms/, 30_000, mark);
    expect(await run("added")).toEqual({ text: "lib-4", main: false, pid: before.pid });
    // The generated client knows it too.
    await until(() => readFileSync(path.join(cwd, ".kaygraph/generated/client.ts"), "utf8").includes("added"), "the client to be generated again");
  });

  it("a save that makes a graph need run threads, or a settings change, gets a new process", async () => {
    const cwd = await tmpProject({ "package.json": PACKAGE_JSON, "lib/text.ts": `export const text = "lib-1";\n`, "graphs/inline.ts": helperGraph("inline", "inline") });
    const dev = startCli(["dev", "--port", "0"], { cwd });
    const base = `http://127.0.0.1:${await dev.ready()}`;
    await dev.waitFor("kaygraph: watcher ready");
    const run = async (graph: string) => ((await (await fetch(`${base}/api/v1/${graph}`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })).json()) as { result: { text: string; pid: number; main: boolean } }).result;
    const first = await run("inline");
    expect(first.main).toBe(true);
    let mark = dev.mark();
    await writeFile(path.join(cwd, "graphs/threaded.ts"), helperGraph("threaded"));
    await dev.waitFor(/kaygraph: reloaded in \d+ ms/, 30_000, mark);
    const threaded = await run("threaded");
    expect(threaded).toMatchObject({ text: "lib-1", main: false });
    expect(threaded.pid).not.toBe(first.pid);
    mark = dev.mark();
    await writeFile(path.join(cwd, "package.json"), JSON.stringify(PACKAGE_JSON, null, 4));
    await dev.waitFor(/kaygraph: reloaded in \d+ ms \(package\.json changed\)/, 30_000, mark);
    expect((await run("threaded")).pid).not.toBe(threaded.pid);
  });

  it("a change of a CommonJS module the graphs import gets a new process (require's cache keeps the old one)", async () => {
    const cwd = await tmpProject({
      "package.json": PACKAGE_JSON,
      "lib/words.cjs": `module.exports = { word: "cjs-1" };\n`,
      "graphs/greet.ts": `
import { Graph, Node, defineGraph } from "kaygraph";
import { z } from "zod";
import words from "../lib/words.cjs";
class Greet extends Node { post(shared) { shared.output = { text: words.word, pid: process.pid }; } }
export default defineGraph({ input: z.object({}), output: z.object({ text: z.string(), pid: z.number() }), graph: () => new Graph(new Greet()) });
`,
    });
    const dev = startCli(["dev", "--port", "0"], { cwd });
    const base = `http://127.0.0.1:${await dev.ready()}`;
    await dev.waitFor("kaygraph: watcher ready");
    const before = await ask(base);
    expect(before.text).toBe("cjs-1");
    const mark = dev.mark();
    await writeFile(path.join(cwd, "lib/words.cjs"), `module.exports = { word: "cjs-2" };\n`);
    await dev.waitFor(/kaygraph: reloaded in \d+ ms \(lib\/words\.cjs changed\)/, 30_000, mark);
    const after = await ask(base);
    expect(after.text).toBe("cjs-2");
    expect(after.pid).not.toBe(before.pid);
  });

  it("reloads in place at most 25 times per process, then starts a new one (old modules do not pile up)", async () => {
    const { dev, base, file } = await devProject();
    const first = (await ask(base)).pid;
    const pids: number[] = [];
    for (let i = 1; i <= 30; i++) {
      const mark = dev.mark();
      await writeFile(file, greetGraph(`gen-${i}`));
      await dev.waitFor(/kaygraph: reloaded in \d+ ms/, 30_000, mark);
      const answer = await ask(base);
      expect(answer.text).toBe(`gen-${i}`);
      pids.push(answer.pid);
    }
    // Exactly 25 reloads in place (the log line says which kind each was), then a new process.
    const kinds = [...dev.output().stdout.matchAll(/"in_place":(true|false)/g)].map((m) => m[1] === "true");
    expect(kinds.indexOf(false)).toBe(25);
    expect(pids.slice(0, 5)).toEqual([first, first, first, first, first]);
    expect(pids.at(-1)).not.toBe(first);
  });

  it("a change of a module the config file imports is a settings change: a new process reads it", async () => {
    const cwd = await tmpProject({
      "package.json": PACKAGE_JSON,
      "settings/limits.ts": "export const timeoutMs = 5000;\n",
      "kaygraph.config.ts": 'import { defineConfig } from "kaygraph";\nimport { timeoutMs } from "./settings/limits.js";\nexport default defineConfig({ server: { requestTimeoutMs: timeoutMs } });\n',
      "graphs/greet.ts": greetGraph("v1"),
    });
    const dev = startCli(["dev", "--port", "0"], { cwd });
    const base = `http://127.0.0.1:${await dev.ready()}`;
    await dev.waitFor("kaygraph: watcher ready");
    const before = await ask(base);
    const mark = dev.mark();
    await writeFile(path.join(cwd, "settings/limits.ts"), "export const timeoutMs = 6000;\n");
    await dev.waitFor(/kaygraph: reloaded in \d+ ms \(settings\/limits\.ts changed\)/, 30_000, mark);
    expect((await ask(base)).pid).not.toBe(before.pid);
    // The log line goes to stdout, the "reloaded in" line above to stderr: each in order, not with each other.
    await dev.waitFor('"in_place":false', 10_000, mark);
  });

  it("a save whose module crashes the worker while it loads in place: reported once, not also replaced as a crash; the next save is served", async () => {
    const { dev, base, file } = await devProject();
    const crashed = (await ask(base)).pid;
    let mark = dev.mark();
    // An uncaught error from a timer the module starts, while its top-level await still holds the load.
    await writeFile(file, `${greetGraph("crash")}\nsetTimeout(() => { throw new Error("boom at load"); }, 10);\nawait new Promise((r) => setTimeout(r, 500));\n`);
    await dev.waitFor("kaygraph: reload failed", 60_000, mark);
    expect(dev.since(mark)).toMatch(/exited \(exit code 1\) while it loaded the changed graphs/);
    expect(dev.since(mark)).toContain("no server until the code loads");
    await until(() => !alive(crashed), "the crashed worker to be gone");
    mark = dev.mark();
    await writeFile(file, greetGraph("fixed"));
    await dev.waitFor("kaygraph: ready port=", 60_000, mark);
    expect(await ask(base)).toMatchObject({ text: "fixed" });
    // One new worker for the save; the supervisor never replaced the crashed one on its own.
    expect(dev.output().stderr).not.toContain("replacing it in");
  });

  it("an edited .env takes effect on the reload it causes", async () => {
    const cwd = await tmpProject({ "package.json": PACKAGE_JSON, ".env": "GREETING=one\n", "graphs/greet.ts": ENV_GRAPH });
    const dev = startCli(["dev", "--port", "0"], { cwd });
    const base = `http://127.0.0.1:${await dev.ready()}`;
    await dev.waitFor("kaygraph: watcher ready");
    expect((await ask(base)).text).toBe("one");
    const mark = dev.mark();
    await writeFile(path.join(cwd, ".env"), "GREETING=two\n");
    await dev.waitFor("kaygraph: ready port=", 30_000, mark);
    expect(dev.since(mark)).toContain("(.env changed)");
    expect((await ask(base)).text).toBe("two");
  });

  it("reloads on the modules the graphs import (inside the project or not), not on other files", async () => {
    const outside = await tmpProject({ "words.ts": `export const word = "outside-1";\n` }, { linkKaygraph: false });
    const cwd = await tmpProject({
      "package.json": PACKAGE_JSON,
      "lib/text.ts": `export const text = "lib-1";\n`,
      "graphs/greet.ts": importingGraph(path.join(outside, "words.ts")),
    });
    const dev = startCli(["dev", "--port", "0"], { cwd });
    const base = `http://127.0.0.1:${await dev.ready()}`;
    await dev.waitFor("kaygraph: watcher ready");
    expect((await ask(base)).text).toBe("lib-1 outside-1");

    // A log, a data file and a source file nothing imports change, then an imported module: one reload, for it.
    let mark = dev.mark();
    await writeFile(path.join(cwd, "server.log"), "a log line\n");
    await writeFile(path.join(cwd, "notes.json"), "{}\n");
    await writeFile(path.join(cwd, "scratch.ts"), "export const unused = 1;\n");
    await writeFile(path.join(cwd, "lib/text.ts"), `export const text = "lib-2";\n`);
    await dev.waitFor("kaygraph: ready port=", 30_000, mark);
    expect(dev.since(mark).match(/kaygraph: reloaded in \d+ ms \(([^)]*)\)/g)).toEqual([expect.stringContaining("(lib/text.ts changed)")]);
    expect((await ask(base)).text).toBe("lib-2 outside-1");

    mark = dev.mark();
    await writeFile(path.join(outside, "words.ts"), `export const word = "outside-2";\n`);
    await dev.waitFor("kaygraph: ready port=", 30_000, mark);
    expect((await ask(base)).text).toBe("lib-2 outside-2");
  });
});

/** Answers with the GREETING environment variable (from `.env`). */
const ENV_GRAPH = `
import { Graph, Node, defineGraph } from "kaygraph";
import { z } from "zod";
class Greet extends Node {
  post(shared) { shared.output = { text: process.env.GREETING ?? "unset", pid: process.pid }; }
}
export default defineGraph({ input: z.object({}), output: z.object({ text: z.string(), pid: z.number() }), graph: () => new Graph(new Greet()) });
`;

/** Answers with text from a module of the project and a module outside it. */
const importingGraph = (outsideModule: string) => `
import { Graph, Node, defineGraph } from "kaygraph";
import { z } from "zod";
import { text } from "../lib/text.js";
import { word } from ${JSON.stringify(outsideModule)};
class Greet extends Node {
  post(shared) { shared.output = { text: text + " " + word, pid: process.pid }; }
}
export default defineGraph({ input: z.object({}), output: z.object({ text: z.string(), pid: z.number() }), graph: () => new Graph(new Greet()) });
`;

/** Answers `text` and whether it ran on the process's main thread. */
const whereGraph = (name: string, text: string, execution?: "inline") => `
import { isMainThread } from "node:worker_threads";
import { Graph, Node, defineGraph } from "kaygraph";
import { z } from "zod";
class Where extends Node {
  post(shared) { shared.output = { text: ${JSON.stringify(text)}, main: isMainThread }; }
}
export default defineGraph({ name: ${JSON.stringify(name)},${execution ? ` execution: ${JSON.stringify(execution)},` : ""} input: z.object({}), output: z.object({ text: z.string(), main: z.boolean() }), graph: () => new Graph(new Where()) });
`;

/** Answers the text of the project's lib/text.ts, its process and whether it ran on the main thread. */
const helperGraph = (name: string, execution?: "inline") => `
import { isMainThread } from "node:worker_threads";
import { Graph, Node, defineGraph } from "kaygraph";
import { z } from "zod";
import { text } from "../lib/text.js";
class Where extends Node {
  post(shared) { shared.output = { text, pid: process.pid, main: isMainThread }; }
}
export default defineGraph({ name: ${JSON.stringify(name)},${execution ? ` execution: ${JSON.stringify(execution)},` : ""} input: z.object({}), output: z.object({ text: z.string(), pid: z.number(), main: z.boolean() }), graph: () => new Graph(new Where()) });
`;
