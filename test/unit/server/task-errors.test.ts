/** A failed task's GRAPH_ERROR message as callers see it (hidden outside debug), and the `retry` option wiring. */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { HIDDEN_GRAPH_ERROR } from "../../../src/server/event-flow.js";
import { SqliteTaskStore } from "../../../src/tasks/sqlite-store.js";
import type { TaskStore } from "../../../src/tasks/index.js";
import { registryOf } from "../../helpers/app-server.js";
import { TEST_SETTINGS } from "../tasks/helpers.js";
import { openSocket, sseEvents, startTestServer, tokensDefinition, until } from "./ws-support.js";

const SECRET = "secret internal detail";

/** `flaky` fails twice in all (`retry: { attempts: 2, backoff: 0 }`): one `retry` event, then the terminal error. */
const registry = () => registryOf([["flaky", 1, tokensDefinition(1, { retry: { attempts: 2, backoff: 0 } })]]);

async function openStore(): Promise<TaskStore> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "kaygraph-task-errors-"));
  const store = SqliteTaskStore.open({ ...TEST_SETTINGS, file: path.join(dir, "kg.db") });
  onTestFinished(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  return store;
}

/** Starts a server on its own store, runs a failing `flaky` task to its end, and reads it over every transport. */
async function failedTask(debug: boolean) {
  const store = await openStore();
  const server = await startTestServer({}, { tasks: store, debug }, registry());
  const res = await fetch(`${server.base}/api/v1/flaky/async`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ n: 1, fail: true }) });
  expect(res.status).toBe(202);
  const { task_id: id } = (await res.json()) as { task_id: string };
  let record: Record<string, any> = {};
  await until(async () => {
    record = (await (await fetch(`${server.base}/tasks/${id}`)).json()) as Record<string, any>;
    return record.status === "failed";
  }, "the task to fail");
  const list = (await (await fetch(`${server.base}/tasks?status=failed`)).json()) as { tasks: Array<Record<string, any>> };
  const sse = await sseEvents(await fetch(`${server.base}/tasks/${id}/events`));
  const socket = await openSocket(`${server.wsBase}/ws/task-errors`);
  socket.send({ type: "subscribe", id: "s", task_id: id });
  const ws = await socket.operation("s");
  return { id, store, record, listed: list.tasks.find((t) => t.id === id), sse, ws };
}

type Failure = { type: string; error?: unknown; error_code?: unknown };
const failures = (events: readonly Failure[]) => events.filter((e) => e.type === "retry" || e.type === "error").map(({ type, error, error_code }) => ({ type, error, error_code }));

describe("failed tasks: GRAPH_ERROR messages", () => {
  it("are hidden from callers outside debug (GET, list, SSE, WebSocket) and kept in full in the store", async () => {
    const { id, store, record, listed, sse, ws } = await failedTask(false);
    const hidden = { error_code: "GRAPH_ERROR", message: HIDDEN_GRAPH_ERROR };
    expect(record).toMatchObject({ status: "failed", attempts: 2, error: hidden });
    expect(listed).toMatchObject({ error: hidden });
    const expected = [
      { type: "retry", error: HIDDEN_GRAPH_ERROR, error_code: "GRAPH_ERROR" },
      { type: "error", error: HIDDEN_GRAPH_ERROR, error_code: "GRAPH_ERROR" },
    ];
    expect(failures(sse)).toEqual(expected);
    expect(failures(ws)).toEqual(expected);
    expect(JSON.stringify([record, listed, sse, ws])).not.toContain(SECRET);
    // `backoff: 0` reached the task: the retry came at once, not after the 1 s default.
    expect(sse.find((e) => e.type === "retry")).toMatchObject({ delay_ms: 0 });
    // Operators still have the real message.
    expect((await store.get(id))?.error).toMatchObject({ error_code: "GRAPH_ERROR", message: SECRET });
    expect(failures(await store.events(id)).map((e) => e.error)).toEqual([SECRET, SECRET]);
  });

  it("are shown in full in dev/--debug", async () => {
    const { record, listed, sse, ws } = await failedTask(true);
    expect(record.error).toMatchObject({ error_code: "GRAPH_ERROR", message: SECRET });
    expect(listed?.error).toMatchObject({ message: SECRET });
    const expected = [
      { type: "retry", error: SECRET, error_code: "GRAPH_ERROR" },
      { type: "error", error: SECRET, error_code: "GRAPH_ERROR" },
    ];
    expect(failures(sse)).toEqual(expected);
    expect(failures(ws)).toEqual(expected);
  });
});
