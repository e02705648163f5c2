import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli, startCli } from "../helpers/cli.js";
import { basicProject } from "../helpers/fixtures.js";
import { alive, steadyLoad, until } from "../helpers/load.js";
import { tmpProject } from "../helpers/tmp-project.js";

/**
 * A graph file whose run does `body` on the worker's main thread: `execution: "inline"` makes a run share the
 * worker's event loop and process (the case the watchdog and the crash policy exist for).
 */
const inlineGraph = (name: string, body: string, top = "") => `import { Graph, Node, defineGraph } from "kaygraph";
import { z } from "zod";
${top}
class Step extends Node { exec(input) { ${body} } post(shared, _p, value) { shared.output = value; } }
const spec = { name: "${name}", input: z.object({ mb: z.number().default(0) }).default({}), output: z.any(), shared: (input) => ({ input }), graph: () => { const step = new Step(); step.prep = (shared) => shared.input; return new Graph(step); } };
export default defineGraph({ ...spec, execution: "inline" });
`;

const EXIT_GRAPH = inlineGraph("exit", "process.exit(3);");
const SPIN_GRAPH = inlineGraph("spin", "for (;;) {}");
/** Keeps `mb` megabytes per call alive (resident: Buffer.alloc writes every byte) and reports the worker's RSS. */
const HOG_GRAPH = inlineGraph("hog", "kept.push(Buffer.alloc(input.mb * 1024 * 1024, 1)); return { rssMb: Math.round(process.memoryUsage.rss() / 1048576), pid: process.pid };", "const kept = [];");
/** Fails to load once a file named `broken` exists in the project; its run kills the worker. */
const FRAGILE_GRAPH = inlineGraph("fragile", "process.exit(3);", 'import { existsSync } from "node:fs";\nif (existsSync("broken")) throw new Error("fragile cannot boot: the broken marker exists");');

const post = (base: string, graph: string, body: object = {}, timeoutMs = 30_000) =>
  fetch(`${base}/api/v1/${graph}`, { method: "POST", headers: { "content-type": "application/json", connection: "close" }, body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });

async function healthPid(base: string): Promise<number> {
  const res = await fetch(`${base}/health`, { headers: { connection: "close" }, signal: AbortSignal.timeout(3_000) }).catch(() => undefined);
  return res?.ok ? ((await res.json()) as { pid: number }).pid : -1;
}

async function workerPids(base: string, n: number): Promise<Set<number>> {
  const pids = new Set<number>();
  await until(async () => {
    const pid = await healthPid(base);
    if (pid > 0) pids.add(pid);
    return pids.size >= n;
  }, `${n} distinct worker pids`, 60_000);
  return pids;
}

const restarts = async (base: string, reason: string): Promise<number> => {
  const text = await (await fetch(`${base}/metrics`, { headers: { connection: "close" } })).text();
  return Number(new RegExp(`kaygraph_worker_restarts_total\\{reason="${reason}"\\} (\\d+)`).exec(text)?.[1] ?? "NaN");
};

const count = (text: string, pattern: RegExp) => (text.match(new RegExp(pattern.source, "g")) ?? []).length;

describe("serve --workers 2: crash policy, watchdog and recycling", () => {
  it("a graph calling process.exit() 10 times never stops the service: every worker is replaced and counted", async () => {
    const cwd = await tmpProject(basicProject({ "graphs/exit.ts": EXIT_GRAPH }));
    const server = startCli(["serve", "--port", "0", "--host", "127.0.0.1", "--workers", "2"], { cwd });
    const base = `http://127.0.0.1:${await server.ready()}`;
    const primary = server.pid;
    const started = Date.now();
    for (let i = 1; i <= 10; i++) {
      await until(async () => (await healthPid(base)) > 0, "a serving worker", 60_000);
      // The connection dies with the worker: the request fails; what matters is the death line.
      await post(base, "exit").catch(() => undefined);
      await server.waitFor(new RegExp(`(?:died \\(exit code 3\\); replacing it[\\s\\S]*){${i}}`), 60_000);
    }
    const elapsed = Date.now() - started;
    await workerPids(base, 2);
    expect(alive(primary)).toBe(true);
    const res = await post(base, "echo", { text: "still here" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ result: { text: "still here" } });
    expect(await restarts(base, "crash")).toBe(10);
    expect(server.output().stderr).not.toContain("KG_SERVER_CRASH_LOOP");
    // Sanity bound: ten deaths and replacements take ~15 s on an idle 2-core machine; loaded ones are slower.
    expect(elapsed).toBeLessThan(240_000);
  }, 300_000);

  it("a worker blocked in inline code is killed after --worker-timeout, named with its run, and replaced", async () => {
    const cwd = await tmpProject(basicProject({ "graphs/spin.ts": SPIN_GRAPH }));
    const server = startCli(["serve", "--port", "0", "--host", "127.0.0.1", "--workers", "2", "--worker-timeout", "2"], { cwd });
    const base = `http://127.0.0.1:${await server.ready()}`;
    const before = await workerPids(base, 2);
    const spin = fetch(`${base}/api/v1/spin`, { method: "POST", headers: { "content-type": "application/json", "x-request-id": "spin-req-1", connection: "close" }, body: "{}", signal: AbortSignal.timeout(30_000) }).catch((error: Error) => error);
    const line = await server.waitFor(/worker \d+ \(pid (\d+)\) silent for [\d.]+s \(limit 2s; last run: spin@1 \(sync request spin-req-1[^\n]*killed it \(SIGKILL\)/, 30_000);
    const victim = Number(/pid (\d+)/.exec(line)?.[1]);
    expect(before.has(victim)).toBe(true);
    await server.waitFor(new RegExp(`\\(pid ${victim}\\) died \\(SIGKILL\\); replacing it`), 10_000);
    expect(await spin).toBeInstanceOf(Error);
    await until(() => !alive(victim), "the blocked worker to be gone");
    // The service answers again, from two workers, one of them new.
    const after = await workerPids(base, 2);
    expect(after.has(victim)).toBe(false);
    const res = await post(base, "echo", { text: "after" });
    expect(res.status).toBe(200);
    expect(await restarts(base, "timeout")).toBe(1);
    const log = server.output().stdout.split("\n").find((l) => l.includes("worker event loop silent"));
    expect(JSON.parse(log!)).toMatchObject({ worker_pid: victim, last_run: { graph: "spin", version: 1, requestId: "spin-req-1" } });
  }, 180_000);

  it("--max-requests 200 under keep-alive load replaces workers with zero failed requests", async () => {
    const cwd = await tmpProject(basicProject());
    const server = startCli(["serve", "--port", "0", "--host", "127.0.0.1", "--workers", "2", "--max-requests", "200"], { cwd, env: { KAYGRAPH_MAX_REQUESTS_JITTER: "20" } });
    const base = `http://127.0.0.1:${await server.ready()}`;
    const before = await workerPids(base, 2);
    const load = steadyLoad(`${base}/api/v1/echo`, { concurrency: 6, init: () => ({ method: "POST", headers: { "content-type": "application/json" }, body: '{"text":"steady"}' }) });
    // Bounded: both original workers recycled, then a further 100 answers from their replacements.
    const recycled = (pid: number) => new RegExp(`recycling worker \\d+ \\(pid ${pid}\\): served \\d+ requests \\(max-requests (?:2[01]\\d|220)\\)`).test(server.output().stderr);
    await until(() => [...before].every(recycled), "both original workers recycled", 120_000);
    await until(() => [...before].every((pid) => !alive(pid)), `the recycled workers to exit\n${server.output().stderr}`, 120_000);
    await load.waitForOk(100, 30_000);
    const result = await load.stop();
    expect(result.errors).toEqual([]);
    expect(result.failed).toBe(0);
    expect(result.ok).toBeGreaterThan(400);
    expect(await restarts(base, "max_requests")).toBeGreaterThanOrEqual(2);
    expect(await restarts(base, "crash")).toBe(0);
  }, 300_000);

  it("--max-memory recycles a worker whose resident memory grows past the limit", async () => {
    const cwd = await tmpProject(basicProject({ "graphs/hog.ts": HOG_GRAPH }));
    const server = startCli(["serve", "--port", "0", "--host", "127.0.0.1", "--workers", "2", "--max-memory", "300"], { cwd });
    const base = `http://127.0.0.1:${await server.ready()}`;
    const pids = new Set<number>();
    // Each call keeps 40 MB more in the worker it lands on; bounded by the number of calls.
    for (let i = 0; i < 40 && !/recycling worker \d+ \(pid \d+\): resident memory \d+ MB > max-memory 300 MB/.test(server.output().stderr); i++) {
      const res = await post(base, "hog", { mb: 40 });
      expect(res.status).toBe(200);
      pids.add(((await res.json()) as { result: { pid: number } }).result.pid);
    }
    const line = await server.waitFor(/recycling worker \d+ \(pid (\d+)\): resident memory \d+ MB > max-memory 300 MB/, 20_000);
    const victim = Number(/pid (\d+)/.exec(line)?.[1]);
    expect(pids.has(victim)).toBe(true);
    await until(() => !alive(victim), "the recycled worker to exit", 120_000);
    expect((await post(base, "echo", { text: "fresh" })).status).toBe(200);
    expect(await restarts(base, "max_memory")).toBeGreaterThanOrEqual(1);
  }, 180_000);

  it("replacements that cannot boot while no worker serves end the service: KG_SERVER_CRASH_LOOP, exit 1", async () => {
    const cwd = await tmpProject(basicProject({ "graphs/fragile.ts": FRAGILE_GRAPH }));
    const server = startCli(["serve", "--port", "0", "--host", "127.0.0.1", "--workers", "1"], { cwd });
    const base = `http://127.0.0.1:${await server.ready()}`;
    await writeFile(path.join(cwd, "broken"), "");
    await post(base, "fragile").catch(() => undefined);
    const { exitCode } = await server.exited();
    const { stderr } = server.output();
    expect(exitCode).toBe(1);
    expect(stderr).toContain("KG_SERVER_CRASH_LOOP");
    expect(stderr).toContain("fragile cannot boot");
    expect(count(stderr, /replacement worker failed to boot; trying again/)).toBe(4);
  }, 240_000);

  it("a worker that dies while booting at start ends serve with KG_SERVER_CRASH_LOOP, exit 1", async () => {
    const cwd = await tmpProject(basicProject({ "graphs/exits-on-load.ts": 'process.exit(4);\nexport default undefined;\n' }));
    const r = await runCli(["serve", "--port", "0", "--host", "127.0.0.1", "--workers", "2"], { cwd });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("KG_SERVER_CRASH_LOOP");
    expect(r.stderr).toMatch(/exited \(exit code 4\) before it was ready/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
