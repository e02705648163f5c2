/** The conformance suite against the embedded backend: a real SQLite file in a temp dir. */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { SqliteTaskStore } from "../../../src/tasks/sqlite-store.js";
import type { TaskStore } from "../../../src/tasks/index.js";
import { describeTaskStore } from "./conformance.js";
import { TEST_SETTINGS, type Backend } from "./helpers.js";

describeTaskStore("sqlite", async (): Promise<Backend> => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "kaygraph-tasks-"));
  const file = path.join(dir, ".kaygraph", "kaygraph.db");
  const stores: TaskStore[] = [];
  const errors: unknown[] = [];
  return {
    name: "sqlite",
    errors,
    childEnv: { KG_TEST_BACKEND: "sqlite", KG_TEST_DB: file },
    async open(settings = {}) {
      const store = SqliteTaskStore.open({ ...TEST_SETTINGS, onError: (e) => errors.push(e), ...settings, file });
      stores.push(store);
      return store;
    },
    async dispose() {
      for (const store of stores) await store.close();
      if (process.env.KAYGRAPH_KEEP_TMP !== "1") await rm(dir, { recursive: true, force: true });
    },
  };
});
