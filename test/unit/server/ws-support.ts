/** In-process servers and graphs for the streaming tests (clients: ws-client.ts). */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { onTestFinished } from "vitest";
import { z } from "zod";
import type { KaygraphConfig } from "../../../src/config/schema.js";
import type { GraphRegistry } from "../../../src/definition/registry.js";
import { Graph, Node, defineGraph, type GraphDefinitionSpec } from "../../../src/index.js";
import { startServer, type ServerHandle, type StartServerOptions } from "../../../src/server/listen.js";
import { registryOf, testConfig } from "../../helpers/app-server.js";

export { until } from "../../helpers/load.js";
export { openSocket, sseEvents, sseFrames, upgradeStatus, type Msg, type SseFrame, type TestSocket } from "./ws-client.js";

/** Runs that saw their signal fire, by the input's `tag`. */
export const aborted = new Set<string>();

interface TokenInput {
  n: number;
  tag: string;
  /** Wait this long (abort-aware) after the chunks, before the result. */
  waitMs: number;
  /** Yield to the event loop every this many chunks (0 = never). */
  yieldEvery: number;
  /** Emit chunks of this many bytes until aborted (a stream that never ends). */
  floodBytes: number;
  /** Pad each of the `n` chunks with this many bytes. */
  chunkBytes: number;
  fail: boolean;
}

/** Emits `n` chunks `{ i }`, then waits, then answers; or floods; or fails. Watches its signal. */
class Tokens extends Node<{ input: TokenInput; output?: unknown }> {
  override prep(shared: { input: TokenInput }) {
    return shared.input;
  }
  override async exec(input: TokenInput) {
    this.signal.addEventListener("abort", () => aborted.add(input.tag), { once: true });
    if (input.floodBytes > 0) {
      const blob = "x".repeat(input.floodBytes);
      for (let i = 0; !this.signal.aborted && i < 100_000; i++) {
        this.emit({ i, blob });
        await new Promise((resolve) => setImmediate(resolve));
      }
      throw new Error("flood ended");
    }
    const pad = "y".repeat(input.chunkBytes);
    for (let i = 0; i < input.n; i++) {
      this.emit(pad ? { i, pad } : { i });
      if (input.yieldEvery > 0 && i % input.yieldEvery === input.yieldEvery - 1) await new Promise((resolve) => setTimeout(resolve, 1));
    }
    if (input.fail) throw new Error("secret internal detail");
    if (input.waitMs > 0) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, input.waitMs);
        this.signal.addEventListener("abort", () => {
          clearTimeout(timer);
          reject(new Error("aborted"));
        });
      });
    }
    return input.n;
  }
  override post(shared: { output?: unknown }, _p: unknown, n: number) {
    shared.output = { count: n };
  }
}

const tokenInput = z.object({
  n: z.number().int().min(0).default(0),
  tag: z.string().default(""),
  waitMs: z.number().int().min(0).default(0),
  yieldEvery: z.number().int().min(0).default(0),
  floodBytes: z.number().int().min(0).default(0),
  chunkBytes: z.number().int().min(0).default(0),
  fail: z.boolean().default(false),
});

/** The `tokens` graph (see {@link Tokens}), answering `version`; `extra` adds definition options. */
export function tokensDefinition(version: number, extra: Partial<Pick<GraphDefinitionSpec<z.ZodType, z.ZodType>, "timeoutMs" | "retry">> = {}) {
  return defineGraph({
    input: tokenInput,
    output: z.object({ count: z.number(), version: z.number() }),
    graph: () => new Graph(new Tokens({ nodeId: "tokens" })),
    result: (shared: { output: { count: number } }) => ({ ...shared.output, version }),
    ...extra,
  });
}

/** `tokens` v1 and v2 (v2 answers `version: 2`), and `short` with a 150 ms timeout. */
export function streamRegistry() {
  return registryOf([
    ["tokens", 1, tokensDefinition(1)],
    ["tokens", 2, tokensDefinition(2)],
    ["short", 1, tokensDefinition(1, { timeoutMs: 150 })],
  ]);
}

/** A real server (listen.ts: app, WebSockets, task store and runner) on 127.0.0.1:0, closed after the test. */
export async function startTestServer(overrides: KaygraphConfig = {}, options: StartServerOptions = {}, registry: GraphRegistry = streamRegistry()): Promise<ServerHandle & { base: string; wsBase: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "kaygraph-ws-"));
  const config = testConfig({ ...overrides, server: { host: "127.0.0.1", port: 0, ...overrides.server }, tasks: { database: path.join(dir, "kg.db"), ...overrides.tasks }, rateLimit: { database: path.join(dir, "rl.db"), ...overrides.rateLimit } });
  const handle = await startServer(config, registry, { tasks: options.tasks, ...options });
  onTestFinished(async () => {
    await handle.close(200);
    await rm(dir, { recursive: true, force: true });
  });
  return { ...handle, base: `http://127.0.0.1:${handle.port}`, wsBase: `ws://127.0.0.1:${handle.port}` };
}

/** A counter's value from the server's own metrics registry. */
export async function metricValue(handle: ServerHandle, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = handle.metrics.registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  return values.filter((v) => Object.entries(labels).every(([k, l]) => String((v.labels as Record<string, unknown>)[k]) === l)).reduce((sum, v) => sum + v.value, 0);
}
