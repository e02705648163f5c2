/**
 * Webhooks end to end: `kaygraph serve` (built CLI) delivers signed task events to a receiver written here,
 * verified with node:crypto alone; retried after a 500; delivered after a restart when the receiver was down
 * at completion; redelivered after kill -9 mid-delivery. On the embedded SQLite store and on Redis.
 */
import { createHmac } from "node:crypto";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli, startCli, type CliHandle } from "../helpers/cli.js";
import { ECHO_GRAPH, PACKAGE_JSON } from "../helpers/fixtures.js";
import { until } from "../helpers/load.js";
import { freePort } from "../helpers/ports.js";
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from "../helpers/redis.js";
import { DURABLE_GRAPHS } from "../helpers/task-fixtures.js";
import { tmpProject } from "../helpers/tmp-project.js";
import { startReceiver as receiver, type Received } from "../helpers/webhook-receiver.js";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";


interface Message {
  type: string;
  timestamp: string;
  data: { id: string; status: string; result: unknown; interrupt: unknown };
}


/** Checks the Standard Webhooks signature with node:crypto only, and returns the parsed body. */
function verified(message: Received): Message {
  const key = Buffer.from(SECRET.slice("whsec_".length), "base64");
  const expected = createHmac("sha256", key).update(`${message.id}.${message.timestamp}.${message.body}`).digest("base64");
  expect(message.signature).toBe(`v1,${expected}`);
  expect(Math.abs(Number(message.timestamp) - Date.now() / 1000)).toBeLessThan(300);
  return JSON.parse(message.body) as Message;
}

const json = { "content-type": "application/json", connection: "close" };

async function post(url: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { method: "POST", headers: json, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function get(url: string): Promise<Record<string, unknown>> {
  return (await (await fetch(url, { headers: { connection: "close" }, signal: AbortSignal.timeout(10_000) })).json()) as Record<string, unknown>;
}

async function project(receiverPort: number, delivery: Record<string, number> = {}): Promise<string> {
  return tmpProject({
    "package.json": PACKAGE_JSON,
    "graphs/echo.ts": ECHO_GRAPH,
    "graphs/approve.ts": DURABLE_GRAPHS["graphs/approve.ts"],
    "kaygraph.config.json": {
      tasks: { leaseMs: 1000 },
      log: { level: "warn" },
      webhooks: [{ url: `http://127.0.0.1:${receiverPort}/hooks`, secret: SECRET }],
      webhookDelivery: { timeoutMs: 1000, backoffMs: 100, maxBackoffMs: 400, ...delivery },
    },
  });
}

function serve(cwd: string, env: Record<string, string>): CliHandle {
  return startCli(["serve", "--port", "0", "--host", "127.0.0.1", "--workers", "1"], { cwd, env: { TASK_LOG: path.join(cwd, "side-effects.log"), ...env } });
}

async function completedTask(base: string, text: string): Promise<Record<string, unknown>> {
  const submitted = await post(`${base}/api/v1/echo/async`, { text });
  expect(submitted.status).toBe(202);
  const id = submitted.body.task_id as string;
  let task: Record<string, unknown> = {};
  await until(async () => (task = await get(`${base}/tasks/${id}`)).status === "completed", `task ${id} to complete`);
  return task;
}

/** kill -9 of the server's worker and its primary (the whole tree). */
async function killTree(handle: CliHandle, base: string): Promise<void> {
  const worker = (await get(`${base}/health`)).pid as number;
  for (const pid of [worker, handle.pid]) process.kill(pid, "SIGKILL");
  await handle.exited();
}

/** Delivered with a verifiable signature, retried after a 500 with the same webhook-id; interrupts announced. */
async function deliversAndRetries(env: Record<string, string>): Promise<void> {
  const hook = await receiver((n) => (n === 0 ? 500 : 204));
  const cwd = await project(hook.port);
  const server = serve(cwd, env);
  const base = `http://127.0.0.1:${await server.ready()}`;
  const task = await completedTask(base, "hello");
  await until(() => hook.received.some((r) => r.status === 204), "the completed event to be delivered");
  const [first, second] = hook.received;
  expect(first?.status).toBe(500);
  expect(second?.id).toBe(first?.id);
  for (const message of [first!, second!]) {
    const body = verified(message);
    expect(body.type).toBe("task.completed");
    // The data is the task record exactly as GET /tasks/{id} answers it.
    expect(body.data).toEqual(task);
    expect(Date.parse(body.timestamp)).toBeGreaterThan(0);
  }

  const interrupted = await post(`${base}/api/v1/approve/async`, { topic: "otters" });
  const id = interrupted.body.task_id as string;
  await until(() => hook.received.some((r) => JSON.parse(r.body).data.id === id), "the interrupted event");
  const body = verified(hook.received.find((r) => JSON.parse(r.body).data.id === id)!);
  expect(body).toMatchObject({ type: "task.interrupted", data: { id, status: "interrupted", interrupt: { node: "Review", value: { question: "Publish this draft?" } } } });
  // Resumed and completed: a task.completed for it too.
  expect((await post(`${base}/tasks/${id}/resume`, { value: { approved: true } })).status).toBe(202);
  await until(() => hook.received.some((r) => r.status === 204 && JSON.parse(r.body).type === "task.completed" && JSON.parse(r.body).data.id === id), "the resumed task's completion");

  const metrics = await (await fetch(`${base}/metrics`, { headers: { connection: "close" } })).text();
  expect(metrics).toMatch(/kaygraph_webhook_deliveries_total\{outcome="delivered"\} [1-9]/);
  expect(metrics).toMatch(/kaygraph_webhook_deliveries_total\{outcome="retry"\} 1/);
}

/** The receiver is down when the task completes; kill -9; receiver up; restart: delivered by the new server. */
async function deliveredAfterRestart(env: Record<string, string>): Promise<void> {
  const port = await freePort();
  const cwd = await project(port);
  const first = serve(cwd, env);
  const base = `http://127.0.0.1:${await first.ready()}`;
  const from = first.mark();
  const task = await completedTask(base, "while down");
  await first.waitFor("webhook delivery failed, will retry", 20_000, from);
  await killTree(first, base);
  const hook = await receiver(() => 200, port);
  const second = serve(cwd, env);
  await second.ready();
  await until(() => hook.received.length > 0, "the message to be delivered after the restart");
  const body = verified(hook.received[0]!);
  expect(body).toMatchObject({ type: "task.completed", data: { id: task.id, status: "completed", result: { text: "while down" } } });
}

/** kill -9 while a delivery is in flight: the restarted server delivers the same message (same webhook-id) again. */
async function redeliveredAfterKill(env: Record<string, string>): Promise<void> {
  const hook = await receiver((n) => (n === 0 ? "hang" : 200));
  const cwd = await project(hook.port, { timeoutMs: 500, backoffMs: 50 });
  const first = serve(cwd, env);
  const base = `http://127.0.0.1:${await first.ready()}`;
  await completedTask(base, "in flight");
  await until(() => hook.received.length === 1, "the first attempt to reach the receiver");
  await killTree(first, base);
  const second = serve(cwd, env);
  await second.ready();
  // Its claim lease (timeout + 5 s) expires, then the new server delivers it.
  await until(() => hook.received.some((r) => r.status === 200), "the redelivery", 30_000);
  expect(new Set(hook.received.map((r) => r.id)).size).toBe(1);
  verified(hook.received.at(-1)!);
}

describe("webhook settings", () => {
  it("kaygraph config redacts secrets (config file and KAYGRAPH_WEBHOOKS); a bad secret is KG_CONFIG_INVALID without echoing it", async () => {
    const cwd = await project(4000);
    const shown = await runCli(["config", "--json"], { cwd });
    expect(shown.exitCode).toBe(0);
    expect(shown.stdout).not.toContain(SECRET.slice(6));
    expect(JSON.parse(shown.stdout).settings.webhooks).toMatchObject({ value: [{ url: "http://127.0.0.1:4000/hooks", secret: "(redacted)" }], source: "kaygraph.config.json" });
    const fromEnv = await runCli(["config"], { cwd, env: { KAYGRAPH_WEBHOOKS: JSON.stringify([{ url: "https://e.example/in", secret: SECRET, events: ["task.failed"] }]) } });
    expect(fromEnv.exitCode).toBe(0);
    expect(fromEnv.stdout).toMatch(/^webhooks .*"https:\/\/e\.example\/in".*"\(redacted\)".*env KAYGRAPH_WEBHOOKS$/m);
    expect(fromEnv.stdout).not.toContain(SECRET.slice(6));
    const bad = await runCli(["config"], { cwd, env: { KAYGRAPH_WEBHOOKS: JSON.stringify([{ url: "https://e.example/in", secret: "plain-secret-value" }]) } });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain("KG_CONFIG_INVALID");
    expect(bad.stderr).toMatch(/webhooks\.0\.secret: must be "whsec_"/);
    expect(bad.stderr + bad.stdout).not.toContain("plain-secret-value");
  });
});

describe("webhooks (SQLite)", () => {
  it("delivers signed task events, retries after a 500 with the same webhook-id, announces interrupts", () => deliversAndRetries({}));
  it("delivers after a restart when the receiver was down at completion", () => deliveredAfterRestart({}));
  it("redelivers a message whose deliverer was killed (kill -9) mid-delivery", () => redeliveredAfterKill({}));
});

describe("webhooks (Redis)", () => {
  const prefixes: string[] = [];
  const redis = (): Record<string, string> => {
    const prefix = uniquePrefix("kg-webhooks");
    prefixes.push(prefix);
    return { KAYGRAPH_REDIS_URL: TEST_REDIS_URL, KAYGRAPH_REDIS_PREFIX: prefix };
  };
  afterAll(async () => {
    for (const prefix of prefixes) await deleteKeys(prefix);
  });
  it("delivers signed task events, retries after a 500 with the same webhook-id, announces interrupts", () => deliversAndRetries(redis()));
  it("delivers after a restart when the receiver was down at completion", () => deliveredAfterRestart(redis()));
});
