// Redis for the limiter tests: clients on the machine's Redis with a unique prefix per run (keys deleted
// afterwards), and throwaway redis-server processes on free ports for outage tests.
import { execa, type ResultPromise } from "execa";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import type { Redis } from "ioredis";
import { onTestFinished } from "vitest";
import { createLimiterRedisClient } from "../../../../src/security/rate-limit/index.js";

/** The machine's Redis (DESIGN.md section 1; CI starts it). */
export const LOCAL_REDIS_URL = "redis://127.0.0.1:6379";

/** A limiter client, quit after the test; connection errors are collected, not printed. */
export function limiterClient(url: string): { client: Redis; errors: Error[] } {
  const errors: Error[] = [];
  const client = createLimiterRedisClient(url, (error) => errors.push(error));
  onTestFinished(() => {
    client.disconnect();
  });
  return { client, errors };
}

/** Resolves once `client` is ready (commands fail fast before that, by design). */
export async function ready(client: Redis): Promise<void> {
  if (client.status !== "ready") await once(client, "ready");
}

/** A key prefix unique to this test, whose keys are deleted after it. */
export function uniquePrefix(client: Redis): string {
  const prefix = `kaygraph-test:${randomUUID()}`;
  onTestFinished(async () => {
    const keys = await client.keys(`${prefix}:*`);
    if (keys.length > 0) await client.del(...keys);
  });
  return prefix;
}

/** A throwaway redis-server (no persistence) on `port`, killed after the test at the latest. */
export function startRedisServer(port: number): { stop(): Promise<void> } {
  const server: ResultPromise = execa("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { reject: false });
  onTestFinished(async () => {
    if (server.exitCode === null) {
      server.kill("SIGKILL");
      await server;
    }
  });
  return {
    async stop() {
      server.kill("SIGKILL");
      await server;
    },
  };
}
