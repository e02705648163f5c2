/** A recording WebSocket client and an SSE reader, shared by the unit and e2e streaming tests. */
import { expect, onTestFinished } from "vitest";
import WebSocket from "ws";

/** A message the server sent. */
export type Msg = { type: string; id?: string; seq?: number; [key: string]: unknown };

/** A WebSocket client that records every message and the close. */
export interface TestSocket {
  readonly ws: WebSocket;
  readonly messages: Msg[];
  /** When each message arrived (epoch ms), by index. */
  readonly arrivals: number[];
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
  const arrivals: number[] = [];
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
    arrivals.push(Date.now());
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
          reject(new Error(`socket closed (${closeInfo.code} ${closeInfo.reason}) before the message came; got ${JSON.stringify(messages.slice(-3)).slice(0, 600)}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no matching message within ${timeoutMs} ms; last: ${JSON.stringify(messages.slice(-3)).slice(0, 600)}`));
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
    arrivals,
    closed,
    send: (message) => ws.send(typeof message === "string" ? message : JSON.stringify(message)),
    next,
    async operation(id, timeoutMs = 10_000) {
      await next((m) => m.id === id && (m.type === "result" || m.type === "error" || m.type === "cancelled"), timeoutMs);
      return messages.filter((m) => m.id === id);
    },
  };
}

/** How an upgrade was answered: 101 (the socket is closed again at once) or the refusal's status and headers. */
export function upgradeStatus(url: string, options: WebSocket.ClientOptions = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; challenge: string | undefined }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    ws.once("unexpected-response", (_req, res) => {
      resolve({ status: res.statusCode ?? 0, headers: res.headers, challenge: res.headers["www-authenticate"] as string | undefined });
      ws.terminate();
    });
    ws.once("open", () => {
      ws.close();
      resolve({ status: 101, headers: {}, challenge: undefined });
    });
    ws.once("error", (e) => (e.message.includes("Unexpected server response") ? undefined : reject(e)));
  });
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

