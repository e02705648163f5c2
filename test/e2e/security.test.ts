import { afterAll, describe, expect, it, onTestFinished } from "vitest";
import { runCli, startCli } from "../helpers/cli.js";
import { basicProject } from "../helpers/fixtures.js";
import { until } from "../helpers/load.js";
import { deleteKeys, uniquePrefix } from "../helpers/redis.js";
import { canConnect, freePort } from "../helpers/ports.js";
import { startRedis } from "../helpers/redis-server.js";
import { tmpProject } from "../helpers/tmp-project.js";

const SECRET = "e2e-secret-0123456789-abcdefghijklmnopqrstuvwxyz";

async function statuses(base: string, n: number, headers: Record<string, string> = {}, concurrent = false): Promise<number[]> {
  const one = async () => (await fetch(`${base}/api/v1/echo`, { method: "POST", headers: { "content-type": "application/json", connection: "close", ...headers }, body: '{"text":"x"}' })).status;
  if (concurrent) return Promise.all(Array.from({ length: n }, one));
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await one());
  return out;
}

const count = (list: number[], status: number) => list.filter((s) => s === status).length;

async function workerPids(base: string, n: number): Promise<number[]> {
  const pids = new Set<number>();
  await until(async () => {
    pids.add(((await (await fetch(`${base}/health`, { headers: { connection: "close" } })).json()) as { pid: number }).pid);
    return pids.size >= n;
  }, `${n} workers`);
  return [...pids];
}

describe("auth and rate limits through kaygraph serve", () => {
  it("serve --auth jwt refuses to start without a strong secret (exit 2); kaygraph token mints a usable token", async () => {
    const cwd = await tmpProject(basicProject());
    const weak = await runCli(["serve", "--auth", "jwt", "--port", "0"], { cwd, env: { KAYGRAPH_SECRET_KEY: "too-short" } });
    expect(weak.exitCode).toBe(2);
    expect(weak.stderr).toContain("KG_AUTH_SECRET_WEAK");
    const missing = await runCli(["serve", "--auth", "jwt", "--port", "0"], { cwd });
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain("KG_AUTH_SECRET_MISSING");

    const env = { KAYGRAPH_SECRET_KEY: SECRET };
    const server = startCli(["serve", "--auth", "jwt", "--port", "0", "--host", "127.0.0.1"], { cwd, env });
    const base = `http://127.0.0.1:${await server.ready()}`;
    const token = (await runCli(["token", "--sub", "carol", "--tier", "premium", "--expires", "10m"], { cwd, env })).stdout.trim();
    expect(await statuses(base, 1)).toEqual([401]);
    expect(await statuses(base, 1, { authorization: `Bearer ${token}` })).toEqual([200]);
    const logs = server.output().stdout;
    expect(logs).not.toContain(token);
  });

  it("--workers 2, limit 10/minute: 30 requests on new connections → exactly 10 pass; 200 concurrent at 50 → exactly 50", async () => {
    const cwd = await tmpProject(basicProject());
    const server = startCli(["serve", "--workers", "2", "--rate-limit", "10/minute", "--port", "0", "--host", "127.0.0.1"], { cwd });
    const base = `http://127.0.0.1:${await server.ready()}`;
    await workerPids(base, 2);
    const first = await statuses(base, 30);
    expect(count(first, 200)).toBe(10);
    expect(count(first, 429)).toBe(20);

    const cwd2 = await tmpProject(basicProject());
    const server2 = startCli(["serve", "--workers", "2", "--rate-limit", "50/minute", "--port", "0", "--host", "127.0.0.1"], { cwd: cwd2 });
    const base2 = `http://127.0.0.1:${await server2.ready()}`;
    await workerPids(base2, 2);
    const burst = await statuses(base2, 200, {}, true);
    expect(count(burst, 200)).toBe(50);
    expect(count(burst, 429)).toBe(150);
  });

  it("a SIGKILLed worker does not reset a caller's count", async () => {
    const cwd = await tmpProject(basicProject());
    const server = startCli(["serve", "--workers", "2", "--rate-limit", "6/minute", "--port", "0", "--host", "127.0.0.1"], { cwd });
    const base = `http://127.0.0.1:${await server.ready()}`;
    const pids = await workerPids(base, 2);
    expect(count(await statuses(base, 4), 200)).toBe(4);
    process.kill(pids[0]!, "SIGKILL");
    await server.waitFor("replacing it");
    await until(async () => (await fetch(`${base}/ready`, { headers: { connection: "close" } }).then((r) => r.status).catch(() => 0)) === 200, "service ready");
    const after = await statuses(base, 5);
    expect(count(after, 200)).toBe(2);
    expect(count(after, 429)).toBe(3);
  });
});

describe("rate limits on Redis", () => {
  const prefix = uniquePrefix("kg-e2e-rl");
  afterAll(() => deleteKeys(prefix));

  it("two serve processes sharing Redis count exactly: 30 requests split across them at 10/minute → 10 pass", async () => {
    const env = { KAYGRAPH_REDIS_URL: "redis://127.0.0.1:6379", KAYGRAPH_REDIS_PREFIX: prefix };
    const a = startCli(["serve", "--rate-limit", "10/minute", "--port", "0", "--host", "127.0.0.1"], { cwd: await tmpProject(basicProject()), env });
    const b = startCli(["serve", "--rate-limit", "10/minute", "--port", "0", "--host", "127.0.0.1"], { cwd: await tmpProject(basicProject()), env });
    const [pa, pb] = await Promise.all([a.ready(), b.ready()]);
    const results = (await Promise.all([statuses(`http://127.0.0.1:${pa}`, 15), statuses(`http://127.0.0.1:${pb}`, 15)])).flat();
    expect(count(results, 200)).toBe(10);
    expect(count(results, 429)).toBe(20);
  });

  it("Redis down: 503 UNAVAILABLE (fail closed) with no stack, then recovery without a restart; failOpen lets requests through", async () => {
    const port = await freePort();
    let redis = startRedis(port);
    onTestFinished(() => void redis.kill("SIGKILL"));
    await until(() => canConnect(port), "throwaway redis");
    const env = { KAYGRAPH_REDIS_URL: `redis://127.0.0.1:${port}`, KAYGRAPH_REDIS_PREFIX: "outage" };
    const closed = startCli(["serve", "--rate-limit", "100/minute", "--port", "0", "--host", "127.0.0.1"], { cwd: await tmpProject(basicProject()), env });
    const open = startCli(["serve", "--rate-limit", "100/minute", "--port", "0", "--host", "127.0.0.1"], { cwd: await tmpProject(basicProject()), env: { ...env, KAYGRAPH_RATE_LIMIT_FAIL_OPEN: "true" } });
    const [pc, po] = await Promise.all([closed.ready(), open.ready()]);
    expect(await statuses(`http://127.0.0.1:${pc}`, 1)).toEqual([200]);
    redis.kill("SIGKILL");
    await until(async () => !(await canConnect(port)), "redis to go away");
    await until(async () => (await statuses(`http://127.0.0.1:${pc}`, 1))[0] === 503, "fail-closed 503");
    const body = await (await fetch(`http://127.0.0.1:${pc}/api/v1/echo`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"text":"x"}' })).json();
    expect(body).toMatchObject({ error_code: "UNAVAILABLE" });
    expect(JSON.stringify(body)).not.toMatch(/\bat .*:\d+/);
    expect(await statuses(`http://127.0.0.1:${po}`, 1)).toEqual([200]);
    redis = startRedis(port);
    await until(async () => (await statuses(`http://127.0.0.1:${pc}`, 1))[0] === 200, "recovery without restart", 30_000);
    redis.kill("SIGKILL");
  });
});
