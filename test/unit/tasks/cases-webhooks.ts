/** Conformance: the webhook outbox (written with each transition, leased claims, retries, give-up, pruning). */
import { expect, it } from "vitest";
import type { Lease, TaskStore, TaskWebhook } from "../../../src/tasks/index.js";
import type { Checkpoint } from "../../../src/graph/interrupt.js";
import type { Fresh } from "./conformance.js";
import { until } from "./helpers.js";

const ALL: TaskWebhook["events"] = ["task.completed", "task.failed", "task.cancelled", "task.interrupted"];
const A = "https://a.example/hooks";
const B = "http://b.example:8080/in";

async function claimNow(store: TaskStore, leaseMs = 10_000): Promise<Lease> {
  const lease = await store.claim({ leaseMs, signal: AbortSignal.timeout(5_000) });
  if (!lease) throw new Error("expected a task to claim");
  return lease;
}

const cp = (next: string): Checkpoint => ({ next_node: next, step: 1, shared: {}, params: {}, resume: [] });

export function webhookCases(fresh: Fresh): void {
  it("a completion writes one message per subscribed endpoint, with the record as of the transition", async () => {
    const backend = await fresh();
    const store = await backend.open();
    const { task } = await store.submit({ graph: "g", version: 1, input: {}, owner: "u1", webhooks: [{ url: A, events: ALL }, { url: B, events: ["task.failed"] }] });
    expect(await store.webhookMessages(task.id)).toEqual([]);
    expect(await store.claimWebhooks(10, 5_000)).toEqual({ deliveries: [], nextDueIn: null });
    const lease = await claimNow(store);
    expect(await store.complete(lease, { out: [1, 2] })).toBe("ok");
    const [message, ...more] = await store.webhookMessages(task.id);
    expect(more).toEqual([]);
    expect(message).toMatchObject({ type: "task.completed", url: A, status: "pending", attempts: 0, last_error: null });
    expect(message?.id).toMatch(/^msg_/);
    // Another process claims it: the record is the completed one, exactly as GET /tasks/{id} answers.
    const other = await backend.open();
    const { deliveries: [delivery], nextDueIn } = await other.claimWebhooks(10, 5_000);
    // The claim says when the next message is due: the one just claimed, at its lease's end.
    expect(nextDueIn).toBeGreaterThan(4_000);
    expect(nextDueIn).toBeLessThanOrEqual(5_000);
    expect(delivery).toMatchObject({ id: message?.id, type: "task.completed", url: A, attempts: 1 });
    expect(delivery?.task).toEqual(await store.get(task.id));
    expect(Date.now() - (delivery?.ts ?? 0)).toBeLessThan(10_000);
    // Leased: nobody else gets it meanwhile.
    expect((await store.claimWebhooks(10, 5_000)).deliveries).toEqual([]);
    expect(await other.settleWebhook(delivery!, { outcome: "delivered" })).toBe(true);
    expect(await store.webhookMessages(task.id)).toEqual([]);
    expect(await store.claimWebhooks(10, 5_000)).toEqual({ deliveries: [], nextDueIn: null });
  });

  it("failed, cancelled (pending, running, interrupted) and interrupted transitions write their events; fenced ones write none", async () => {
    const backend = await fresh();
    const store = await backend.open();
    const hooks = [{ url: A, events: ALL }];
    const failed = (await store.submit({ graph: "g", version: 1, input: {}, webhooks: hooks })).task;
    const lease = await claimNow(store);
    expect(await store.fail(lease, { error_code: "GRAPH_ERROR", message: "boom" })).toBe("ok");
    expect(await store.complete(lease, 1)).toBe("fenced");
    expect((await store.webhookMessages(failed.id)).map((m) => m.type)).toEqual(["task.failed"]);

    const parked = (await store.submit({ graph: "g", version: 1, input: {}, webhooks: hooks })).task;
    const second = await claimNow(store);
    expect(await store.interrupt(second, { node: "ask", value: { q: 1 }, checkpoint: cp("ask") })).toBe("ok");
    expect(await store.cancel(parked.id)).toMatchObject({ status: "cancelled" });
    expect((await store.webhookMessages(parked.id)).map((m) => m.type)).toEqual(["task.interrupted", "task.cancelled"]);

    const running = (await store.submit({ graph: "g", version: 1, input: {}, webhooks: hooks })).task;
    const third = await claimNow(store);
    await store.cancel(running.id);
    expect(await store.complete(third, 1)).toBe("cancelled");
    expect((await store.webhookMessages(running.id)).map((m) => m.type)).toEqual(["task.cancelled"]);

    // A sync run's interrupt stored as a task announces itself too.
    const sync = (await store.submit({ graph: "g", version: 1, input: {}, webhooks: hooks, interrupted: { node: "ask", value: 2, checkpoint: cp("ask") } })).task;
    expect((await store.webhookMessages(sync.id)).map((m) => m.type)).toEqual(["task.interrupted"]);

    // Retries and resumes announce nothing; tasks without webhooks write no messages.
    const quiet = (await store.submit({ graph: "g", version: 1, input: {} })).task;
    await store.complete(await claimNow(store), 1);
    expect(await store.webhookMessages(quiet.id)).toEqual([]);

    const { deliveries } = await store.claimWebhooks(100, 5_000);
    expect(deliveries.map((d) => [d.task.id, d.type, d.task.status])).toEqual(
      expect.arrayContaining([
        [failed.id, "task.failed", "failed"],
        [parked.id, "task.interrupted", "interrupted"],
        [parked.id, "task.cancelled", "cancelled"],
        [running.id, "task.cancelled", "cancelled"],
        [sync.id, "task.interrupted", "interrupted"],
      ]),
    );
    expect(deliveries).toHaveLength(5);
    // The interrupted message keeps the record of its time (the question), though the task was cancelled since.
    expect(deliveries.find((d) => d.task.id === parked.id && d.type === "task.interrupted")?.task.interrupt).toEqual({ node: "ask", value: { q: 1 } });
  });

  it("a lost worker's task that ends WORKER_LOST (sweep) announces task.failed", async () => {
    const backend = await fresh();
    const store = await backend.open({ maxLost: 0 });
    const { task } = await store.submit({ graph: "g", version: 1, input: {}, webhooks: [{ url: A, events: ["task.failed"] }] });
    await claimNow(store, 500);
    await until(async () => (await store.sweep(), (await store.get(task.id))?.status === "failed"));
    expect((await store.webhookMessages(task.id)).map((m) => m.type)).toEqual(["task.failed"]);
  });

  it("retry schedules the next attempt; an expired claim is due again (a killed deliverer); a stale holder cannot settle", async () => {
    const backend = await fresh();
    const store = await backend.open();
    const { task } = await store.submit({ graph: "g", version: 1, input: {}, webhooks: [{ url: A, events: ALL }] });
    await store.complete(await claimNow(store), "ok");
    const { deliveries: [first] } = await store.claimWebhooks(1, 5_000);
    expect(await store.settleWebhook(first!, { outcome: "retry", delayMs: 300, error: "HTTP 500" })).toBe(true);
    expect(await store.webhookMessages(task.id)).toMatchObject([{ status: "pending", attempts: 1, last_error: "HTTP 500" }]);
    const idle = await store.claimWebhooks(1, 5_000);
    expect(idle.deliveries).toEqual([]);
    expect(idle.nextDueIn).toBeGreaterThan(0);
    expect(idle.nextDueIn).toBeLessThanOrEqual(300);
    const second = await until(async () => (await store.claimWebhooks(1, 200)).deliveries[0]);
    expect(second).toMatchObject({ id: first?.id, attempts: 2 });
    // Its holder "dies": after the lease the message is claimable again, and the old holder is fenced.
    const third = await until(async () => (await store.claimWebhooks(1, 5_000)).deliveries[0]);
    expect(third).toMatchObject({ id: first?.id, attempts: 3 });
    expect(await store.settleWebhook(second!, { outcome: "delivered" })).toBe(false);
    expect(await store.settleWebhook(third!, { outcome: "failed", error: "HTTP 410" })).toBe(true);
    expect(await store.webhookMessages(task.id)).toMatchObject([{ status: "failed", attempts: 3, last_error: "HTTP 410" }]);
    expect(await store.claimWebhooks(1, 5_000)).toEqual({ deliveries: [], nextDueIn: null });
  });

  it("concurrent claimers never share a message", async () => {
    const backend = await fresh();
    const stores = [await backend.open(), await backend.open(), await backend.open()];
    const store = stores[0]!;
    for (let i = 0; i < 6; i++) await store.submit({ graph: "g", version: 1, input: { i }, webhooks: [{ url: A, events: ALL }, { url: B, events: ALL }] });
    for (let i = 0; i < 6; i++) await store.complete(await claimNow(store), i);
    const claimed = (await Promise.all(stores.flatMap((s) => [s.claimWebhooks(3, 5_000), s.claimWebhooks(3, 5_000)]))).flatMap((c) => c.deliveries);
    expect(claimed).toHaveLength(12);
    expect(new Set(claimed.map((d) => `${d.id} ${d.url}`)).size).toBe(12);
    // One webhook-id per event, shared by its endpoints.
    expect(new Set(claimed.map((d) => d.id)).size).toBe(6);
  });

  it("wakes deliverers of other stores when a transition writes messages", async () => {
    const backend = await fresh();
    const store = await backend.open();
    const watcher = await backend.open();
    let rings = 0;
    const off = watcher.onWebhooks(() => rings++);
    // Subscription setup is asynchronous on Redis; a later transition must be heard.
    await until(async () => {
      await store.submit({ graph: "g", version: 1, input: {}, webhooks: [{ url: A, events: ALL }] });
      await store.complete(await claimNow(store), 1);
      return rings > 0;
    });
    off();
  });

  it("prune deletes failed messages past the retention, and pending ones nobody claimed for that long", async () => {
    const backend = await fresh();
    const store = await backend.open();
    const { task } = await store.submit({ graph: "g", version: 1, input: {}, webhooks: [{ url: A, events: ALL }, { url: B, events: ALL }] });
    await store.complete(await claimNow(store), 1);
    const { deliveries: [one] } = await store.claimWebhooks(1, 5_000);
    await store.settleWebhook(one!, { outcome: "failed", error: "HTTP 410" });
    await new Promise((r) => setTimeout(r, 20));
    // The usual retention keeps both; one of a few milliseconds drops the failed one and the unclaimed one.
    await store.prune();
    expect(await store.webhookMessages(task.id)).toHaveLength(2);
    const short = await backend.open({ retentionMs: 5 });
    await short.prune();
    expect(await store.webhookMessages(task.id)).toEqual([]);
  });
}
