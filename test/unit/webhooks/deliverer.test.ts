/** The deliverer against a real SQLite store and a receiver written here (node:http), verified with node:crypto. */
import { createHmac } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { SqliteTaskStore } from "../../../src/tasks/sqlite-store.js";
import type { TaskStore, TaskWebhook } from "../../../src/tasks/index.js";
import { WebhookDeliverer, type DeliveryOutcome } from "../../../src/webhooks/deliverer.js";
import { TEST_SETTINGS, until } from "../tasks/helpers.js";
import { startReceiver, type Received } from "../../helpers/webhook-receiver.js";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const ALL: TaskWebhook["events"] = ["task.completed", "task.failed", "task.cancelled", "task.interrupted"];


const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A receiver that answers each request with the next status of `answers` (the last one repeats). */
async function receiver(answers: number[]): Promise<{ url: string; received: Received[] }> {
  const hook = await startReceiver((n) => answers[Math.min(n, answers.length - 1)] as number);
  return { url: `${hook.url}/hooks?token=abc`, received: hook.received };
}

async function openStore(): Promise<TaskStore> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "kaygraph-webhooks-"));
  const store = SqliteTaskStore.open({ ...TEST_SETTINGS, file: path.join(dir, "kg.db") });
  cleanups.push(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  return store;
}

function start(store: TaskStore, overrides: Partial<ConstructorParameters<typeof WebhookDeliverer>[1]> = {}) {
  const outcomes: DeliveryOutcome[] = [];
  const deliverer = new WebhookDeliverer(store, {
    settings: { timeoutMs: 2_000, backoffMs: 50, maxBackoffMs: 200, maxAgeMs: 60_000, concurrency: 4 },
    secretFor: () => SECRET,
    onOutcome: (o) => outcomes.push(o),
    ...overrides,
  });
  deliverer.start();
  cleanups.push(() => deliverer.stop());
  return { deliverer, outcomes };
}

async function completeTask(store: TaskStore, url: string, result: unknown = { ok: true }): Promise<string> {
  const { task } = await store.submit({ graph: "g", version: 1, input: {}, webhooks: [{ url, events: ALL }] });
  const lease = await store.claim({ leaseMs: 10_000, signal: AbortSignal.timeout(5_000) });
  await store.complete(lease!, result);
  return task.id;
}

function verify(message: Received): unknown {
  const id = message.headers["webhook-id"] as string;
  const timestamp = message.headers["webhook-timestamp"] as string;
  const expected = createHmac("sha256", Buffer.from(SECRET.slice(6), "base64")).update(`${id}.${timestamp}.${message.body}`).digest("base64");
  expect(message.headers["webhook-signature"]).toBe(`v1,${expected}`);
  expect(Math.abs(Number(timestamp) - Date.now() / 1000)).toBeLessThan(60);
  expect(message.headers["content-type"]).toBe("application/json");
  return JSON.parse(message.body);
}

describe("WebhookDeliverer", () => {
  it("delivers a signed message with the task record, once", async () => {
    const store = await openStore();
    const hook = await receiver([204]);
    const { outcomes } = start(store);
    const id = await completeTask(store, hook.url, { text: "HI" });
    await until(() => hook.received.length === 1);
    const body = verify(hook.received[0]!) as { type: string; timestamp: string; data: Record<string, unknown> };
    expect(body).toEqual({ type: "task.completed", timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), data: await store.get(id) });
    expect(hook.received[0]!.headers["webhook-id"]).toMatch(new RegExp(`^msg_${id}_`));
    await until(() => outcomes.length === 1);
    expect(outcomes).toEqual(["delivered"]);
    expect(await store.webhookMessages(id)).toEqual([]);
  });

  it("idles on one store round trip per poll: the claim says when the next message is due", async () => {
    const store = await openStore();
    const claims = vi.spyOn(store, "claimWebhooks");
    const others = (["settleWebhook", "webhookMessages", "get", "list", "events"] as const).map((method) => vi.spyOn(store, method));
    start(store, { pollMs: 10 });
    await until(() => claims.mock.calls.length >= 5);
    for (const other of others) expect(other).not.toHaveBeenCalled();
  });

  it("retries after 500s with the same webhook-id, then delivers", async () => {
    const store = await openStore();
    const hook = await receiver([500, 503, 200]);
    const { outcomes } = start(store);
    const id = await completeTask(store, hook.url);
    await until(() => outcomes.length === 3);
    expect(outcomes).toEqual(["retry", "retry", "delivered"]);
    expect(new Set(hook.received.map((r) => r.headers["webhook-id"])).size).toBe(1);
    for (const message of hook.received) verify(message);
    expect(await store.webhookMessages(id)).toEqual([]);
  });

  it("stops at 410 Gone; gives up after maxAgeMs; fails a message whose endpoint is no longer configured", async () => {
    const store = await openStore();
    const gone = await receiver([410]);
    const failing = await receiver([500]);
    const { outcomes } = start(store, { settings: { timeoutMs: 2_000, backoffMs: 20, maxBackoffMs: 40, maxAgeMs: 300, concurrency: 4 }, secretFor: (_task, url) => (url.includes("removed") ? undefined : SECRET) });
    const a = await completeTask(store, gone.url);
    const b = await completeTask(store, failing.url);
    const c = await completeTask(store, "http://127.0.0.1:9/removed");
    await until(async () => (await store.webhookMessages(b))[0]?.status === "failed");
    expect(await store.webhookMessages(a)).toMatchObject([{ status: "failed", attempts: 1, last_error: "HTTP 410" }]);
    expect(gone.received).toHaveLength(1);
    const [given] = await store.webhookMessages(b);
    expect(given?.last_error).toMatch(/^gave up after \d+ attempt\(s\): HTTP 500$/);
    expect(failing.received.length).toBe(given?.attempts);
    expect(await store.webhookMessages(c)).toMatchObject([{ status: "failed", last_error: "endpoint no longer configured" }]);
    expect(outcomes.filter((o) => o === "failed")).toHaveLength(3);
  });

  it("a receiver that does not answer in time is retried; an unreachable one too", async () => {
    const store = await openStore();
    const slow = http.createServer(() => undefined);
    slow.listen(0, "127.0.0.1");
    await new Promise((r) => slow.once("listening", r));
    cleanups.push(
      () =>
        new Promise((r) => {
          slow.closeAllConnections();
          slow.close(() => r());
        }),
    );
    const { outcomes } = start(store, { settings: { timeoutMs: 200, backoffMs: 10_000, maxBackoffMs: 10_000, maxAgeMs: 60_000, concurrency: 4 } });
    const a = await completeTask(store, `http://127.0.0.1:${(slow.address() as AddressInfo).port}/`);
    const closed = http.createServer();
    closed.listen(0, "127.0.0.1");
    await new Promise((r) => closed.once("listening", r));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const b = await completeTask(store, `http://127.0.0.1:${closedPort}/closed`);
    await until(() => outcomes.length === 2);
    expect(outcomes).toEqual(["retry", "retry"]);
    expect(await store.webhookMessages(a)).toMatchObject([{ status: "pending", attempts: 1, last_error: "no answer within 200 ms" }]);
    expect((await store.webhookMessages(b))[0]?.last_error).toMatch(/ECONNREFUSED/);
  });
});
