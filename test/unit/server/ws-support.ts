/** In-process servers, WebSocket clients and an SSE reader for the streaming tests. */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect, onTestFinished } from "vitest";
import WebSocket from "ws";
import { z } from "zod";
import type { KaygraphConfig } from "../../../src/config/schema.js";
import { Graph, Node, defineGraph } from "../../../src/index.js";
import { startServer, type ServerHandle, type StartServerOptions } from "../../../src/server/listen.js";
import { registryOf, testConfig } from "../../helpers/app-server.js";

export { until } from "../../helpers/load.js";

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
    for (let i = 0; i < input.n; i++) {
      this.emit({ i });
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
  fail: z.boolean().default(false),
});

/** `tokens` v1 and v2 (v2 answers `version: 2`), and `short` with a 150 ms timeout. */
export function streamRegistry() {
  const def = (version: number, timeoutMs?: number) =>
    defineGraph({
      input: tokenInput,
      output: z.object({ count: z.number(), version: z.number() }),
      graph: () => new Graph(new Tokens({ nodeId: "tokens" })),
      result: (shared: { output: { count: number } }) => ({ ...shared.output, version }),
      ...(timeoutMs !== undefined && { timeoutMs }),
    });
  return registryOf([
    ["tokens", 1, def(1)],
    ["tokens", 2, def(2)],
    ["short", 1, def(1, 150)],
  ]);
}

/** A real server (listen.ts: app, WebSockets, task store and runner) on 127.0.0.1:0, closed after the test. */
export async function startTestServer(overrides: KaygraphConfig = {}, options: StartServerOptions = {}): Promise<ServerHandle & { base: string; wsBase: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "kaygraph-ws-"));
  const config = testConfig({ ...overrides, server: { host: "127.0.0.1", port: 0, ...overrides.server }, tasks: { database: path.join(dir, "kg.db"), ...overrides.tasks } });
  const handle = await startServer(config, streamRegistry(), { tasks: options.tasks, ...options });
  onTestFinished(async () => {
    await handle.close(200);
    await rm(dir, { recursive: true, force: true });
  });
  return { ...handle, base: `http://127.0.0.1:${handle.port}`, wsBase: `ws://127.0.0.1:${handle.port}` };
}

/** A message the server sent. */
export type Msg = { type: string; id?: string; seq?: number; [key: string]: unknown };

/** A WebSocket client that records every message and the close. */
export interface TestSocket {
  readonly ws: WebSocket;
  readonly messages: Msg[];
  readonly closed: Promise<{ code: number; reason: string }>;
  send(message: unknown): void;
  /** Resolves with the first message (from `from` on) matching `match`; rejects at the deadline or on close. */
  next(match: (m: Msg) => boolean, timeoutMs?: number, from?: number): Promise<Msg>;
  /** Every message of operation `id` up to and including its terminal event. */
  operation(id: string, timeoutMs?: number): Promise<Msg[]>;
}

/** Opens `url` with a real ws client; closed after the test. */
export async function openSocket(url: string, options: WebSocket.ClientOptions = {}): Promise<TestSocket> {
  const ws = new WebSocket(url, options);
  const messages: Msg[] = [];
  const waiters = new Set<() => void>();
  let closeInfo: { code: number; reason: string } | undefined;
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on("close", (code, reason) => {
      closeInfo = { code, reason: reason.toString() };
      for (const w of waiters) w();
      resolve(closeInfo);
    }),
  );
  ws.on("message", (data) => {
    messages.push(JSON.parse(data.toString()) as Msg);
    for (const w of waiters) w();
  });
  ws.on("error", () => undefined);
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("unexpected-response", (_req, res) => reject(new Error(`upgrade answered ${res.statusCode}`)));
    ws.once("error", reject);
  });
  onTestFinished(() => {
    ws.terminate();
  });
  const next = (match: (m: Msg) => boolean, timeoutMs = 10_000, from = 0): Promise<Msg> =>
    new Promise((resolve, reject) => {
      const check = () => {
        const found = messages.slice(from).find(match);
        if (found) {
          cleanup();
          resolve(found);
        } else if (closeInfo) {
          cleanup();
          reject(new Error(`socket closed (${closeInfo.code} ${closeInfo.reason}) before the message came; got ${JSON.stringify(messages.slice(-5))}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no matching message within ${timeoutMs} ms; last: ${JSON.stringify(messages.slice(-5))}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  return {
    ws,
    messages,
    closed,
    send: (message) => ws.send(typeof message === "string" ? message : JSON.stringify(message)),
    next,
    async operation(id, timeoutMs = 10_000) {
      await next((m) => m.id === id && (m.type === "result" || m.type === "error" || m.type === "cancelled"), timeoutMs);
      return messages.filter((m) => m.id === id);
    },
  };
}

/** One server-sent event. */
export interface SseFrame {
  event?: string;
  id?: string;
  data?: string;
  comment?: string;
}

/** Parses a text/event-stream body frame by frame (comments included, as `comment`). */
export async function* sseFrames(response: Response): AsyncGenerator<SseFrame> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const frame: SseFrame = {};
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) frame.comment = line.slice(1).trim();
        else {
          const colon = line.indexOf(":");
          const field = line.slice(0, colon) as "event" | "id" | "data";
          frame[field] = line.slice(colon + 2);
        }
      }
      yield frame;
    }
  }
}

/** The events (data parsed) of an SSE response, until it ends. */
export async function sseEvents(response: Response, stopAfter?: (event: Msg) => boolean): Promise<Msg[]> {
  const events: Msg[] = [];
  for await (const frame of sseFrames(response)) {
    if (frame.data === undefined) continue;
    const event = JSON.parse(frame.data) as Msg;
    expect(frame.event).toBe(event.type);
    expect(frame.id).toBe(String(event.seq));
    events.push(event);
    if (stopAfter?.(event)) break;
  }
  return events;
}

/** A counter's value from the server's own metrics registry. */
export async function metricValue(handle: ServerHandle, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = handle.metrics.registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  return values.filter((v) => Object.entries(labels).every(([k, l]) => String((v.labels as Record<string, unknown>)[k]) === l)).reduce((sum, v) => sum + v.value, 0);
}
