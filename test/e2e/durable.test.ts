import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { startCli, type CliHandle } from "../helpers/cli.js";
import { until } from "../helpers/load.js";
import { PACKAGE_JSON } from "../helpers/fixtures.js";
import { DURABLE_GRAPHS } from "../helpers/task-fixtures.js";
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from "../helpers/redis.js";
import { tmpProject } from "../helpers/tmp-project.js";

interface Task {
  id: string;
  status: string;
  attempts: number;
  result: Record<string, unknown> | null;
  error: { error_code: string } | null;
  interrupt: { node: string; value: unknown } | null;
  check_url?: string;
}

const headers = { "content-type": "application/json", connection: "close" };

async function post(url: string, body: unknown, extra: Record<string, string> = {}) {
  const res = await fetch(url, { method: "POST", headers: { ...headers, ...extra }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Task & { task_id: string; error_code?: string } };
}

async function get(url: string) {
  const res = await fetch(url, { headers: { connection: "close" }, signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function waitStatus(base: string, id: string, status: string, timeoutMs = 30_000): Promise<Task> {
  let task: Task | undefined;
  await until(async () => {
    task = (await get(`${base}/tasks/${id}`).catch(() => undefined))?.body as Task | undefined;
    return task?.status === status;
  }, `task ${id} to be ${status} (last: ${JSON.stringify(task)})`, timeoutMs);
  return task as Task;
}

/** Lines "<node> <task id> <pid>" of the side-effect log, for one task. */
function sideEffects(cwd: string, taskId: string): string[] {
  const file = path.join(cwd, "side-effects.log");
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.split(" ")[1] === taskId)
    .map((line) => line.split(" ")[0] as string);
}

function start(cwd: string, env: Record<string, string> = {}): CliHandle {
  return startCli(["serve", "--port", "0", "--host", "127.0.0.1", "--workers", "1"], { cwd, env: { TASK_LOG: path.join(cwd, "side-effects.log"), ...env } });
}

async function workerPid(base: string): Promise<number> {
  return ((await get(`${base}/health`)).body as { pid: number }).pid;
}

const project = () =>
  tmpProject({
    "package.json": PACKAGE_JSON,
    ...DURABLE_GRAPHS,
    "kaygraph.config.json": { tasks: { leaseMs: 1000, maxLost: 3, concurrency: 2 }, log: { level: "warn" } },
  });

/**
 * Interrupt → interrupted; kill -9 of the whole process tree; restart on the same store; resume → completed,
 * the nodes before the interrupt executed once. `env` selects the task store (none: the embedded SQLite).
 */
async function interruptSurvivesKill(env: Record<string, string> = {}): Promise<void> {
  const cwd = await project();
  const first = start(cwd, env);
  const base = `http://127.0.0.1:${await first.ready()}`;
  const submitted = await post(`${base}/api/v1/approve/async`, { topic: "otters" });
  expect(submitted.status).toBe(202);
  const id = submitted.body.task_id;
  const interrupted = await waitStatus(base, id, "interrupted");
  expect(interrupted.interrupt).toEqual({ node: "Review", value: { question: "Publish this draft?", draft: "A post about otters" } });
  // The checkpoint before the interrupted node: Draft's write is in it, Review is next.
  expect((await get(`${base}/tasks/${id}/state`)).body).toEqual({ shared: { input: { topic: "otters" }, draft: "A post about otters" }, next_node: "Review", step: 1 });
  // A resume value the graph's `resume` schema refuses: 422, and the task stays interrupted.
  const invalid = await post(`${base}/tasks/${id}/resume`, { value: { approved: "yes" } });
  expect(invalid.status).toBe(422);
  expect(invalid.body.error_code).toBe("VALIDATION_ERROR");
  expect((await post(`${base}/tasks/${id}/resume`, { approved: true })).status).toBe(422);

  // kill -9 of the whole process tree while interrupted, then a new start on the same database.
  const worker = await workerPid(base);
  for (const pid of [worker, first.pid]) process.kill(pid, "SIGKILL");
  await first.exited();
  const second = start(cwd, env);
  const base2 = `http://127.0.0.1:${await second.ready()}`;
  expect((await get(`${base2}/tasks/${id}`)).body).toMatchObject({ status: "interrupted" });
  const resumed = await post(`${base2}/tasks/${id}/resume`, { value: { approved: true, note: "ship it" } }, { "idempotency-key": "r-1" });
  expect(resumed.status).toBe(202);
  expect(resumed.body).toMatchObject({ id, status: "pending", interrupt: null, check_url: `/tasks/${id}` });
  // The same Idempotency-Key again: the same answer, no second resume.
  const replay = await post(`${base2}/tasks/${id}/resume`, { value: { approved: true, note: "ship it" } }, { "idempotency-key": "r-1" });
  expect(replay.status).toBe(202);
  expect(replay.headers.get("idempotent-replayed")).toBe("true");
  const done = await waitStatus(base2, id, "completed");
  expect(done.result).toEqual({ published: true, note: "ship it", draft: "A post about otters" });
  // Draft ran once (before the crash); Review again on resume (it completes only then), Publish once.
  expect(sideEffects(cwd, id)).toEqual(["Draft", "Review", "Publish"]);
  const again = await post(`${base2}/tasks/${id}/resume`, { value: { approved: false } });
  expect(again.status).toBe(409);
  expect(again.body.error_code).toBe("CONFLICT");
  const events = await (await fetch(`${base2}/tasks/${id}/events`, { headers: { connection: "close" } })).text();
  expect(events).toMatch(/event: interrupt\n/);
  expect(events).toMatch(/event: result\n/);
}

/** Sync → 202 with the interrupted task; SSE → interrupt event with task_id; cancel of an interrupted task; WS resume. */
async function syncStreamAndWebSocket(env: Record<string, string> = {}): Promise<void> {
  const cwd = await project();
  const server = start(cwd, env);
  const base = `http://127.0.0.1:${await server.ready()}`;
  const sync = await post(`${base}/api/v1/approve`, { topic: "sync" });
  expect(sync.status).toBe(202);
  expect(sync.body).toMatchObject({ status: "interrupted", interrupt: { node: "Review" }, check_url: `/tasks/${sync.body.id}` });
  expect((await get(`${base}/tasks/${sync.body.id}`)).body).toMatchObject({ status: "interrupted" });

  const res = await fetch(`${base}/api/v1/approve/stream`, { method: "POST", headers, body: JSON.stringify({ topic: "sse" }), signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  const last = text.trim().split("\n\n").at(-1) as string;
  expect(last).toMatch(/^event: interrupt$/m);
  const event = JSON.parse(/^data: (.*)$/m.exec(last)?.[1] as string) as { task_id: string; node: string };
  expect(event.node).toBe("Review");
  expect((await get(`${base}/tasks/${event.task_id}`)).body).toMatchObject({ status: "interrupted" });

  const cancelled = await fetch(`${base}/tasks/${event.task_id}`, { method: "DELETE", headers: { connection: "close" } });
  expect(cancelled.status).toBe(200);
  expect(await cancelled.json()).toMatchObject({ status: "cancelled", interrupt: null });
  expect((await post(`${base}/tasks/${event.task_id}/resume`, { value: { approved: true } })).status).toBe(409);

  // The sync-born task resumes like any other, here over WebSocket: the resumed run's events stream back.
  const socket = new WebSocket(`ws://127.0.0.1:${new URL(base).port}/ws/durable-test`);
  const messages: Array<Record<string, unknown>> = [];
  const ended = new Promise<void>((resolve, reject) => {
    socket.on("message", (data) => {
      const message = JSON.parse(String(data)) as Record<string, unknown>;
      messages.push(message);
      if (message.id === "r2" && (message.type === "result" || message.type === "error")) resolve();
    });
    socket.on("error", reject);
  });
  await new Promise((resolve) => socket.once("open", resolve));
  socket.send(JSON.stringify({ type: "resume", id: "r0", task_id: sync.body.id, value: { approved: "no" } }));
  socket.send(JSON.stringify({ type: "resume", id: "r1", task_id: event.task_id, value: { approved: true } }));
  socket.send(JSON.stringify({ type: "resume", id: "r2", task_id: sync.body.id, value: { approved: false } }));
  await ended;
  socket.close();
  expect(messages.find((m) => m.id === "r0")).toMatchObject({ type: "error", error_code: "VALIDATION_ERROR" });
  expect(messages.find((m) => m.id === "r1")).toMatchObject({ type: "error", error_code: "CONFLICT" });
  const resumed = messages.filter((m) => m.id === "r2");
  expect(resumed.map((m) => m.type)).toEqual(expect.arrayContaining(["node_start", "node_end", "result"]));
  expect(resumed.at(-1)).toMatchObject({ type: "result", result: { published: false, draft: "A post about sync" } });
  expect((await waitStatus(base, sync.body.id, "completed")).result).toMatchObject({ published: false, draft: "A post about sync" });
  expect((await get(`${base}/tasks/nope/state`)).status).toBe(404);

}

describe("durable runs (Redis)", () => {
  // A key prefix of its own per test, deleted after the file.
  const prefixes: string[] = [];
  const redis = (): Record<string, string> => {
    const prefix = uniquePrefix("kg-durable");
    prefixes.push(prefix);
    return { KAYGRAPH_REDIS_URL: TEST_REDIS_URL, KAYGRAPH_REDIS_PREFIX: prefix };
  };
  afterAll(async () => {
    for (const prefix of prefixes) await deleteKeys(prefix);
  });

  it("interrupt → interrupted; kill -9 of the whole tree; restart; resume → completed, earlier nodes ran once", async () => {
    await interruptSurvivesKill(redis());
  });

  it("sync → 202 with the interrupted task; SSE → interrupt event with task_id; cancel of an interrupted task", async () => {
    await syncStreamAndWebSocket(redis());
  });
});

describe("durable runs (embedded SQLite)", () => {
  it("interrupt → interrupted; kill -9 of the whole tree; restart; resume → completed, earlier nodes ran once", async () => {
    await interruptSurvivesKill();
  });

  it("a worker killed in the third node of three: nodes one and two are not executed again", async () => {
    const cwd = await project();
    const server = start(cwd);
    const base = `http://127.0.0.1:${await server.ready()}`;
    const id = (await post(`${base}/api/v1/three/async`, {})).body.task_id;
    const done = await waitStatus(base, id, "completed", 60_000);
    expect(done.result).toEqual({ seen: ["One", "Two", "Three"] });
    expect(done.attempts).toBe(2);
    expect(sideEffects(cwd, id)).toEqual(["One", "Two", "Three"]);
    expect(existsSync(path.join(cwd, "side-effects.log.crashed"))).toBe(true);
  });

  it("sync → 202 with the interrupted task; SSE → interrupt event with task_id; cancel of an interrupted task", async () => {
    await syncStreamAndWebSocket();
  });
});
