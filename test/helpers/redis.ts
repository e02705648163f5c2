/**
 * The real local Redis for tests (127.0.0.1:6379 unless KAYGRAPH_TEST_REDIS_URL says otherwise), with a
 * unique key prefix per use so parallel tests and runs never see each other's keys.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";

/** URL of the Redis the tests use. */
export const TEST_REDIS_URL = process.env.KAYGRAPH_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/** A fresh key prefix, e.g. `kgtest:3f2a…`. */
export function uniquePrefix(label = "kgtest"): string {
  return `${label}:${randomUUID().slice(0, 12)}`;
}

/** Deletes every key under `prefix` (SCAN + UNLINK, never KEYS). */
export async function deleteKeys(prefix: string, url = TEST_REDIS_URL): Promise<number> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    let deleted = 0;
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.unlink(...keys);
    } while (cursor !== "0");
    return deleted;
  } finally {
    redis.disconnect();
  }
}

/** Throws a clear error when the test Redis does not answer (the suite needs it; it does not skip). */
export async function assertRedis(url = TEST_REDIS_URL): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, connectTimeout: 2000, lazyConnect: true });
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    throw new Error(`These tests need Redis at ${url} (start one, or set KAYGRAPH_TEST_REDIS_URL): ${String(error)}`);
  } finally {
    redis.disconnect();
  }
}
