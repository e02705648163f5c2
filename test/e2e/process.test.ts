import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { startCli } from "../helpers/cli.js";
import { basicProject } from "../helpers/fixtures.js";
import { alive, steadyLoad, until } from "../helpers/load.js";
import { tmpProject } from "../helpers/tmp-project.js";

async function healthPid(base: string): Promise<number> {
  const res = await fetch(`${base}/health`, { headers: { connection: "close" }, signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
  return res ? ((await res.json()) as { pid: number }).pid : -1;
}

/** Pids of every worker, found by asking /health on fresh connections until `n` distinct ones answered. */
async function workerPids(base: string, n: number): Promise<Set<number>> {
  const pids = new Set<number>();
  await until(async () => {
    const pid = await healthPid(base);
    if (pid > 0) pids.add(pid);
    return pids.size >= n;
  }, `${n} distinct worker pids`);
  return pids;
}

describe("serve --workers", () => {
  it("spreads requests over N workers and aggregates /metrics over all of them", async () => {
    const cwd = await tmpProject(basicProject());
    const server = startCli(["serve", "--port", "0", "--host", "127.0.0.1", "--workers", "2"], { cwd });
    const base = `http://127.0.0.1:${await server.ready()}`;
    const pids = await workerPids(base, 2);
    expect(pids.size).toBe(2);
    for (let i = 0; i < 6; i++) await fetch(`${base}/api/v1/echo`, { method: "POST", headers: { "content-type": "application/json", connection: "close" }, body: '{"text":"m"}' });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/kaygraph_http_request_duration_seconds_count\{method="POST",route="\/api\/v1\/echo",status="200"\} 6/);
  });

  it("replaces a worker killed with SIGKILL under load; the service keeps answering", async () => {
    const cwd = await tmpProject(basicProject());
    const server = startCli(["serve", "--port", "0", "--host", "127.0.0.1", "--workers", "2"], { cwd });
    const base = `http://127.0.0.1:${await server.ready()}`;
    const before = await workerPids(base, 2);
    const load = steadyLoad(`${base}/health`, { concurrency: 4, newConnections: true });
    await load.waitForOk(20);
    const victim = [...before][0]!;
    process.kill(victim, "SIGKILL");
    await server.waitFor(/worker \d+ \(pid \d+\) died \(SIGKILL\); replacing it/);
    await until(async () => {
      const pid = await healthPid(base);
      return pid > 0 && !before.has(pid);
    }, "an answer from the replacement worker");
    await load.waitForOk(20);
    const result = await load.stop();
    // Requests that were on the killed worker's open connections may fail; the service keeps answering.
    expect(result.ok).toBeGreaterThan(40);
    expect(result.failed).toBeLessThanOrEqual(4);
  });

  it("SIGTERM with slow requests in flight on 2 workers: all complete 200, exit 0 before the deadline", async () => {
    const cwd = await tmpProject(basicProject());
    const server = startCli(["serve", "--port", "0", "--host", "127.0.0.1", "--workers", "2", "--shutdown-timeout", "20"], { cwd });
    const base = `http://127.0.0.1:${await server.ready()}`;
    await workerPids(base, 2);
    const slow = Array.from({ length: 6 }, (_, i) =>
      fetch(`${base}/api/v1/echo`, { method: "POST", headers: { "content-type": "application/json", connection: "close" }, body: JSON.stringify({ text: `slow-${i}`, waitMs: 1500 }) }),
    );
    await until(async () => /kaygraph_graph_runs_in_progress\{graph="echo",kind="sync"\} 6/.test(await (await fetch(`${base}/metrics`, { headers: { connection: "close" } })).text()), "6 runs in flight");
    const started = Date.now();
    server.kill("SIGTERM");
    const results = await Promise.all(slow);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    const { exitCode } = await server.exited();
    expect(exitCode).toBe(0);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it("a run still going at the shutdown deadline is aborted and answered 503 UNAVAILABLE, not cut off", async () => {
    const cwd = await tmpProject(basicProject());
    const server = startCli(["serve", "--port", "0", "--host", "127.0.0.1", "--shutdown-timeout", "1"], { cwd });
    const base = `http://127.0.0.1:${await server.ready()}`;
    const slow = fetch(`${base}/api/v1/echo`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text: "slow", waitMs: 60_000 }) });
    await until(async () => /kaygraph_graph_runs_in_progress\{graph="echo",kind="sync"\} 1/.test(await (await fetch(`${base}/metrics`, { headers: { connection: "close" } })).text()), "the run in flight");
    server.kill("SIGTERM");
    const res = await slow;
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error_code: "UNAVAILABLE", error: expect.stringContaining("the server is shutting down") });
    expect((await server.exited()).exitCode).toBe(0);
  });

  it("SIGHUP under steady load: rolling restart with zero failed requests and all worker pids changed", async () => {
    const cwd = await tmpProject(basicProject());
    const server = startCli(["serve", "--port", "0", "--host", "127.0.0.1", "--workers", "2"], { cwd });
    const base = `http://127.0.0.1:${await server.ready()}`;
    const before = await workerPids(base, 2);
    const load = steadyLoad(`${base}/api/v1/echo`, { concurrency: 6, init: () => ({ method: "POST", headers: { "content-type": "application/json" }, body: '{"text":"steady"}' }) });
    await load.waitForOk(50);
    const mark = server.mark();
    server.kill("SIGHUP");
    await server.waitFor("reloaded in", 30_000, mark);
    await load.waitForOk(50);
    const result = await load.stop();
    expect(result.errors).toEqual([]);
    expect(result.failed).toBe(0);
    const after = await workerPids(base, 2);
    for (const pid of after) expect(before.has(pid)).toBe(false);
    await until(() => [...before].every((pid) => !alive(pid)), "old workers to exit");
  });

  it("SIGHUP re-reads the worker count from the config file", async () => {
    const cwd = await tmpProject({ ...basicProject(), "kaygraph.config.json": { workers: 2 } });
    const server = startCli(["serve", "--port", "0", "--host", "127.0.0.1"], { cwd });
    const base = `http://127.0.0.1:${await server.ready()}`;
    const before = await workerPids(base, 2);
    await writeFile(path.join(cwd, "kaygraph.config.json"), JSON.stringify({ workers: 1 }));
    const mark = server.mark();
    server.kill("SIGHUP");
    await server.waitFor("reloaded in", 30_000, mark);
    await until(() => [...before].every((pid) => !alive(pid)), "old workers to exit");
    const after = new Set<number>();
    for (let i = 0; i < 12; i++) after.add(await healthPid(base));
    expect(after.size).toBe(1);
    expect(before.has([...after][0]!)).toBe(false);
  });
});
