/** The text/event-stream reader of the kaygraph client. */
import { parseJson, unexpected } from "./errors.js";

/** One message of a text/event-stream. */
export interface SseMessage {
  event: string;
  data: string;
  /** The server's reconnection delay ("retry:"), when it sent one. */
  retry: number | undefined;
}

/** Parses a text/event-stream body (WHATWG rules: CRLF, CR or LF lines, comments, multi-line data). */
export async function* readEventStream(response: Response): AsyncGenerator<SseMessage, void, undefined> {
  const type = response.headers.get("content-type") ?? "";
  if (!type.includes("text/event-stream") || !response.body) throw unexpected(response, "Expected text/event-stream, got " + (type || "no body"));
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let event = "";
  let data: string[] = [];
  let retry: number | undefined;
  for (;;) {
    const chunk = await reader.read();
    buffer += chunk.done ? decoder.decode() : decoder.decode(chunk.value, { stream: true });
    for (;;) {
      const end = buffer.search(/[\r\n]/);
      if (end < 0) break;
      // A CR at the very end may be the first half of a CRLF split across chunks.
      if (buffer[end] === "\r" && end === buffer.length - 1 && !chunk.done) break;
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + (buffer[end] === "\r" && buffer[end + 1] === "\n" ? 2 : 1));
      if (line === "") {
        if (data.length > 0) yield { event: event || "message", data: data.join("\n"), retry };
        event = "";
        data = [];
        continue;
      }
      const colon = line.indexOf(":");
      if (colon === 0) continue;
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(line[colon + 1] === " " ? colon + 2 : colon + 1);
      if (field === "data") data.push(value);
      else if (field === "event") event = value;
      else if (field === "retry" && /^\d+$/.test(value)) retry = Number(value);
    }
    if (chunk.done) return;
  }
}

/** The run event a message carries (its JSON data; the SSE event name fills a missing type). */
export function eventOf<E>(message: SseMessage, response: Response): E {
  const parsed = parseJson(message.data);
  if (!parsed.ok || typeof parsed.value !== "object" || parsed.value === null) throw unexpected(response, "An event's data is not a JSON object: " + message.data.slice(0, 200));
  const event = parsed.value as { type?: unknown; seq?: unknown };
  if (typeof event.type !== "string") event.type = message.event;
  if (typeof event.seq !== "number") throw unexpected(response, "An event has no seq: " + message.data.slice(0, 200));
  return event as E;
}

/**
 * True for the notice a task-event stream gets when its server shuts down: an `error` with `UNAVAILABLE` and no
 * seq. It is no event of the task; the stream is to be resumed (Last-Event-ID) from another server.
 */
export function isShutdownNotice(message: SseMessage): boolean {
  if (message.event !== "error") return false;
  const parsed = parseJson(message.data);
  const value = parsed.ok ? (parsed.value as { seq?: unknown; error_code?: unknown } | null) : null;
  return typeof value === "object" && value !== null && value.seq === undefined && value.error_code === "UNAVAILABLE";
}

/** True for the events after which a run's stream ends: result, error and interrupt. */
export function isFinal(event: { type: string }): boolean {
  return event.type === "result" || event.type === "error" || event.type === "interrupt";
}
