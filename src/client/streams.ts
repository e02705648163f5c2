/** stream() and the resuming subscribe() of the kaygraph client. */
import { interrupted } from "./errors.js";
import { eventOf, isFinal, isShutdownNotice, readEventStream } from "./sse.js";
import type { Transport } from "./transport.js";
import { KaygraphApiError, type RequestOptions, type RunEvent, type SubscribeOptions, type TaskEvent } from "./types.js";

/** An AbortController that follows the caller's signal; stop() aborts it (closing the connection) and unhooks it. */
function follow(signal: AbortSignal | undefined): { signal: AbortSignal; stop(): void } {
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal?.reason);
  if (signal?.aborted) onAbort();
  else signal?.addEventListener("abort", onAbort, { once: true });
  return {
    signal: controller.signal,
    stop() {
      signal?.removeEventListener("abort", onAbort);
      controller.abort();
    },
  };
}

/** POST `path` and yield the run's events until its final one; the connection closes when the loop ends. */
export async function* streamRun<Output>(http: Transport, path: string, input: unknown, options: RequestOptions): AsyncGenerator<RunEvent<Output>, void, undefined> {
  const link = follow(options.signal);
  try {
    const response = await http.send("POST", path, { body: input, accept: "text/event-stream", options: { ...options, signal: link.signal } });
    for await (const message of readEventStream(response)) {
      const event = eventOf<RunEvent<Output>>(message, response);
      yield event;
      if (isFinal(event)) return;
    }
    throw interrupted(response);
  } finally {
    link.stop();
  }
}

function shouldReconnect(error: unknown, signal: AbortSignal): boolean {
  if (signal.aborted) return false;
  if (!(error instanceof KaygraphApiError)) return true; // a network error, or a connection that broke mid-stream
  return error.error_code === "STREAM_INTERRUPTED" || error.status === 429 || error.status === 502 || error.status === 503 || error.status === 504;
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** GET a task's events, reconnecting after the last seq seen (Last-Event-ID) when the connection drops. */
export async function* subscribeTask<Output>(http: Transport, taskId: string, options: SubscribeOptions): AsyncGenerator<TaskEvent<Output>, void, undefined> {
  const link = follow(options.signal);
  const path = "/tasks/" + encodeURIComponent(taskId) + "/events";
  let last = options.after;
  let failures = 0;
  let serverDelay: number | undefined;
  try {
    for (;;) {
      let failure: unknown;
      let notice = false;
      try {
        const headers: Record<string, string> = last === undefined ? {} : { "last-event-id": String(last) };
        const response = await http.send("GET", path, { accept: "text/event-stream", headers, options: { ...options, signal: link.signal } });
        for await (const message of readEventStream(response)) {
          serverDelay = message.retry ?? serverDelay;
          // The server is shutting down: resume from the last seq seen, on another server.
          if (isShutdownNotice(message)) {
            notice = true;
            break;
          }
          const event = eventOf<TaskEvent<Output>>(message, response);
          if (last !== undefined && event.seq <= last) continue; // already seen before the reconnect
          last = event.seq;
          failures = 0;
          yield event;
          if (isFinal(event)) return;
        }
        failure = interrupted(response);
      } catch (error) {
        if (!shouldReconnect(error, link.signal)) throw error;
        failure = error;
      }
      // A graceful shutdown or restart is no failure: reconnect after the base delay, spending no attempt.
      if (notice) {
        await pause(serverDelay ?? http.reconnectDelayMs, link.signal);
        continue;
      }
      failures += 1;
      if (failures > http.reconnectAttempts) throw failure;
      await pause(serverDelay ?? Math.min(http.reconnectDelayMs * 2 ** (failures - 1), 5000), link.signal);
    }
  } finally {
    link.stop();
  }
}
