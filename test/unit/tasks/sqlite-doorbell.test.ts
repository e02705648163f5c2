/**
 * The embedded store's doorbell: dead processes' registrations are pruned, live ones kept; a ring for this
 * process only sends no datagram.
 */
import Database from "better-sqlite3";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect, it, onTestFinished, vi } from "vitest";
import { Doorbell } from "../../../src/tasks/doorbell.js";
import { openTaskDatabase, Statements } from "../../../src/tasks/sqlite-schema.js";
import { SqliteTaskStore } from "../../../src/tasks/sqlite-store.js";
import { TEST_SETTINGS, until } from "./helpers.js";

it("prunes doorbell registrations of dead processes and registers live stores", async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "kaygraph-bell-"));
  const file = path.join(dir, "kaygraph.db");
  const store = SqliteTaskStore.open({ ...TEST_SETTINGS, file });
  onTestFinished(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  const db = new Database(file);
  onTestFinished(() => {
    db.close();
  });
  const ports = () => db.prepare("SELECT port, pid FROM kg_doorbells ORDER BY port").all() as { port: number; pid: number }[];
  await until(() => ports().some((r) => r.pid === process.pid));
  // A registration left behind by a killed process (a pid that cannot exist).
  db.prepare("INSERT INTO kg_doorbells (port, pid, seen_at) VALUES (1, 2147483646, ?)").run(Date.now());
  const other = SqliteTaskStore.open({ ...TEST_SETTINGS, file });
  onTestFinished(() => other.close());
  await until(() => ports().length === 2 && ports().every((r) => r.pid === process.pid));
  await other.close();
  expect(ports()).toHaveLength(1);
});

it("a ring for this process only reaches its own listeners; other processes hear the rings sent with it", async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "kaygraph-bell-"));
  const file = path.join(dir, "kaygraph.db");
  // Two doorbells on one file, each with its own connection and port, as two processes have.
  const errors: unknown[] = [];
  const [dbA, dbB] = [openTaskDatabase(file), openTaskDatabase(file)];
  const [a, b] = [new Doorbell(new Statements(dbA), (e) => errors.push(e)), new Doorbell(new Statements(dbB), (e) => errors.push(e))];
  onTestFinished(async () => {
    await a.close();
    await b.close();
    dbA.close();
    dbB.close();
    await rm(dir, { recursive: true, force: true });
  });
  const heardA: string[] = [];
  const heardB: string[] = [];
  a.on("task", () => heardA.push("task"));
  b.on("task", () => heardB.push("task"));
  b.on("event", (id) => heardB.push(`event:${id}`));
  await Promise.all([a.ready(), b.ready()]);
  a.ring("task", "", { here: true });
  a.ring("event", "t1");
  // Datagrams on loopback arrive in order: once B hears the event, it would have heard a task ring sent with it.
  await until(() => heardB.includes("event:t1"));
  expect(heardA).toEqual(["task"]);
  expect(heardB).toEqual(["event:t1"]);
  // The same line rung both ways in one turn goes out: a ring for everyone is never narrowed.
  a.ring("task", "", { here: true });
  a.ring("task");
  a.ring("event", "t2");
  await until(() => heardB.includes("event:t2"));
  expect(heardB).toEqual(["event:t1", "task", "event:t2"]);
  expect(heardA).toEqual(["task", "task"]);
  expect(errors).toEqual([]);
});

it("a store's rings go to the ports read in its last group transaction, without a read of their own", async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "kaygraph-bell-"));
  const file = path.join(dir, "kaygraph.db");
  const store = SqliteTaskStore.open({ ...TEST_SETTINGS, file });
  const dbB = openTaskDatabase(file);
  const errors: unknown[] = [];
  const other = new Doorbell(new Statements(dbB), (e) => errors.push(e));
  onTestFinished(async () => {
    await other.close();
    dbB.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  const { task } = await store.submit({ graph: "g", version: 1, input: {} });
  // Another process registers after the store's last commit; the store's next change reaches it by its ring.
  const heard: string[] = [];
  other.on("event", (id) => heard.push(id));
  await other.ready();
  const prepare = vi.spyOn(Statements.prototype, "prepare");
  onTestFinished(() => prepare.mockRestore());
  await store.cancel(task.id);
  await until(() => heard.includes(task.id));
  expect(prepare.mock.calls.filter(([sql]) => sql.includes("kg_doorbells"))).toEqual([]);
  expect(errors).toEqual([]);
});
