/** The embedded store's doorbell registry: dead processes' registrations are pruned, live ones kept. */
import Database from "better-sqlite3";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect, it, onTestFinished } from "vitest";
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
