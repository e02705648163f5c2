/** The conformance suite against the scale-out backend: BullMQ on the real local Redis, a unique prefix per test. */
import { beforeAll } from "vitest";
import { BullmqTaskStore } from "../../../src/tasks/bullmq-store.js";
import type { TaskStore } from "../../../src/tasks/index.js";
import { assertRedis, deleteKeys, TEST_REDIS_URL, uniquePrefix } from "../../helpers/redis.js";
import { describeTaskStore } from "./conformance.js";
import { TEST_SETTINGS, type Backend } from "./helpers.js";

beforeAll(() => assertRedis());

describeTaskStore("bullmq", async (): Promise<Backend> => {
  const prefix = uniquePrefix();
  const stores: TaskStore[] = [];
  const errors: unknown[] = [];
  return {
    name: "redis",
    errors,
    childEnv: { KG_TEST_BACKEND: "redis", KG_TEST_REDIS_URL: TEST_REDIS_URL, KG_TEST_PREFIX: prefix },
    async open(settings = {}) {
      const store = await BullmqTaskStore.open({ ...TEST_SETTINGS, onError: (e) => errors.push(e), ...settings, url: TEST_REDIS_URL, prefix });
      stores.push(store);
      return store;
    },
    async dispose() {
      for (const store of stores) await store.close();
      await deleteKeys(prefix);
    },
  };
});
