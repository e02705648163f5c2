/** The HTTP face of a down task store (issue 15): `/ready` names it, task routes answer 503 with Retry-After, and both recover; the WebSocket answers the same. */
import { mkdtemp, rename, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { SqliteTaskStore } from "../../../src/tasks/sqlite-store.js";
import { StoreHealth, StoreUnavailableError } from "../../../src/tasks/store-health.js";
import { WatchedTaskStore } from "../../../src/tasks/watched-store.js";
import { postJson, registryOf, serveApp } from "../../helpers/app-server.js";
import { TEST_SETTINGS } from "../tasks/helpers.js";
import { openSocket, startTestServer, tokensDefinition } from "./ws-support.js";

describe("a task store that goes down", () => {
  it("turns /ready and the task routes into 503 UNAVAILABLE naming the store, and both come back with the file", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "kaygraph-store-down-"));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const file = path.join(dir, "kg.db");
    const health = new StoreHealth();
    const store = await WatchedTaskStore.open({ backend: "sqlite", open: async () => SqliteTaskStore.open({ ...TEST_SETTINGS, file }), health, onOpenFailure: "fail", probeEveryMs: 60_000 });
    onTestFinished(() => store.close());
    const { base } = await serveApp(registryOf([["tokens", 1, tokensDefinition(1)]]), {}, { tasks: store, health });

    const created = await postJson(`${base}/api/v1/tokens/async`, { text: "a b" });
    expect(created.status).toBe(202);
    expect(await (await fetch(`${base}/ready`)).json()).toEqual({ status: "ready", stores: { tasks: { status: "up", backend: "sqlite" } } });

    await rename(file, `${file}.away`);
    await store.check();
    const ready = await fetch(`${base}/ready`);
    expect(ready.status).toBe(503);
    expect(ready.headers.get("retry-after")).toBe("1");
    expect(await ready.json()).toMatchObject({
      error: "The task store (sqlite) is unavailable: the database file was deleted or moved while in use.",
      error_code: "UNAVAILABLE",
      details: { phase: "ready", stores: { tasks: { status: "down", backend: "sqlite", since: expect.any(String) } } },
    });
    for (const answer of [await fetch(`${base}/tasks`), await fetch(`${base}/tasks/${String(created.body?.task_id)}`), await fetch(`${base}/tasks/${String(created.body?.task_id)}/events`)]) {
      expect(answer.status).toBe(503);
      expect(answer.headers.get("retry-after")).toBe("1");
      expect(await answer.json()).toMatchObject({ error_code: "UNAVAILABLE", details: { store: "tasks", backend: "sqlite" } });
    }
    const refused = await postJson(`${base}/api/v1/tokens/async`, { text: "b" });
    expect(refused.status).toBe(503);
    expect(JSON.stringify(refused.body)).not.toContain(dir);
    expect((await fetch(`${base}/health`)).status).toBe(200);

    await rename(`${file}.away`, file);
    await store.check();
    expect((await fetch(`${base}/ready`)).status).toBe(200);
    expect((await fetch(`${base}/tasks/${String(created.body?.task_id)}`)).status).toBe(200);
  });
});

describe("a task store that is down, over the WebSocket", () => {
  it("answers subscribe and resume with the HTTP API's 503 body: UNAVAILABLE naming the store and backend, with retry_after", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "kaygraph-store-down-ws-"));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const store = await SqliteTaskStore.open({ ...TEST_SETTINGS, file: path.join(dir, "kg.db") });
    onTestFinished(() => store.close());
    const down = new StoreUnavailableError("tasks", "sqlite", "the database file was deleted or moved while in use");
    store.get = () => Promise.reject(down);
    const { base, wsBase } = await startTestServer({}, { tasks: store, runTasks: false });
    const http = await fetch(`${base}/tasks/t1`);
    const httpBody = (await http.json()) as { error: string; error_code: string; details: object };
    expect(httpBody).toMatchObject({ error_code: "UNAVAILABLE", details: { store: "tasks", backend: "sqlite" } });

    const socket = await openSocket(`${wsBase}/ws/client-1`);
    socket.send({ type: "subscribe", id: "s1", task_id: "t1" });
    socket.send({ type: "resume", id: "r1", task_id: "t1", value: {} });
    for (const id of ["s1", "r1"]) {
      const answer = await socket.next((m) => m.id === id);
      expect(answer).toEqual({ type: "error", id, error: httpBody.error, error_code: "UNAVAILABLE", details: { ...httpBody.details, retry_after: Number(http.headers.get("retry-after")) } });
    }
  });
});
