/**
 * The transport of every generated client (TypeScript source, emitted verbatim): requests and error
 * answers, the text/event-stream parser, stream() and the resuming subscribe(). Written without
 * backquotes or dollar-brace so that it can live in a raw template string.
 */
export const CLIENT_TRANSPORT = String.raw`// #region transport — the same in every generated client

interface Call {
  body?: unknown;
  accept?: string;
  headers?: Record<string, string>;
  options: RequestOptions;
}

class Transport {
  readonly reconnectAttempts: number;
  readonly reconnectDelayMs: number;
  private readonly base: string;
  private readonly options: ClientOptions;
  private readonly fetcher: (url: string, init: RequestInit) => Promise<Response>;

  constructor(options: ClientOptions) {
    this.options = options;
    this.base = options.baseUrl.replace(/\/+$/, "");
    this.fetcher = options.fetch ?? ((url, init) => fetch(url, init));
    this.reconnectAttempts = options.reconnect?.attempts ?? 5;
    this.reconnectDelayMs = options.reconnect?.delayMs ?? 250;
  }

  /** Sends a request; an answer that is not 2xx is thrown as a KaygraphApiError. */
  async send(method: string, path: string, call: Call): Promise<Response> {
    const headers: Record<string, string> = {};
    // Lower-cased, so that a caller's "Authorization" replaces the token's rather than being joined to it.
    for (const source of [{ accept: call.accept ?? "application/json" }, this.options.headers, call.options.headers, call.headers]) {
      for (const [key, value] of Object.entries(source ?? {})) headers[key.toLowerCase()] = value;
    }
    if (headers["authorization"] === undefined) {
      const token = typeof this.options.token === "function" ? await this.options.token() : this.options.token;
      if (token) headers["authorization"] = "Bearer " + token;
    }
    if (call.options.requestId !== undefined) headers["x-request-id"] = call.options.requestId;
    const init: RequestInit = { method, headers };
    if (call.body !== undefined) {
      headers["content-type"] = "application/json";
      init.body = JSON.stringify(call.body);
    }
    if (call.options.signal) init.signal = call.options.signal;
    const response = await this.fetcher(this.base + path, init);
    if (!response.ok) throw await errorOf(response);
    return response;
  }

  /** Sends a request and parses its JSON answer. */
  async json<T>(method: string, path: string, call: Call): Promise<T> {
    const response = await this.send(method, path, call);
    const text = await response.text();
    const parsed = parseJson(text);
    if (!parsed.ok) throw unexpected(response, "The answer is not JSON: " + text.slice(0, 200));
    return parsed.value as T;
  }
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    // Not JSON: the caller turns this into an UNEXPECTED_RESPONSE error that quotes the text.
    return { ok: false };
  }
}

function requestIdOf(response: Response): string | undefined {
  return response.headers.get("x-request-id") ?? undefined;
}

function unexpected(response: Response, message: string): KaygraphApiError {
  return new KaygraphApiError({ status: response.status, error_code: "UNEXPECTED_RESPONSE", message, request_id: requestIdOf(response) });
}

async function errorOf(response: Response): Promise<KaygraphApiError> {
  const text = await response.text();
  const parsed = parseJson(text);
  const retryAfter = Number(response.headers.get("retry-after") ?? Number.NaN);
  const body = parsed.ok && typeof parsed.value === "object" && parsed.value !== null ? (parsed.value as Record<string, unknown>) : undefined;
  if (body === undefined || typeof body["error_code"] !== "string") {
    return unexpected(response, "HTTP " + response.status + " " + response.statusText + ": " + text.slice(0, 200));
  }
  return new KaygraphApiError({
    status: response.status,
    error_code: body["error_code"],
    message: typeof body["error"] === "string" ? body["error"] : "HTTP " + response.status,
    request_id: typeof body["request_id"] === "string" ? body["request_id"] : requestIdOf(response),
    details: body["details"],
    retry_after: Number.isFinite(retryAfter) ? retryAfter : undefined,
  });
}

interface SseMessage {
  event: string;
  data: string;
  /** The server's reconnection delay ("retry:"), when it sent one. */
  retry: number | undefined;
}

/** Parses a text/event-stream body (WHATWG rules: CRLF, CR or LF lines, comments, multi-line data). */
async function* readEventStream(response: Response): AsyncGenerator<SseMessage, void, undefined> {
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

function eventOf<E>(message: SseMessage, response: Response): E {
  const parsed = parseJson(message.data);
  if (!parsed.ok || typeof parsed.value !== "object" || parsed.value === null) throw unexpected(response, "An event's data is not a JSON object: " + message.data.slice(0, 200));
  const event = parsed.value as { type?: unknown; seq?: unknown };
  if (typeof event.type !== "string") event.type = message.event;
  if (typeof event.seq !== "number") throw unexpected(response, "An event has no seq: " + message.data.slice(0, 200));
  return event as E;
}

function isFinal(event: { type: string }): boolean {
  return event.type === "result" || event.type === "error";
}

function interrupted(response: Response): KaygraphApiError {
  return new KaygraphApiError({ status: response.status, error_code: "STREAM_INTERRUPTED", message: "The event stream ended before its final event.", request_id: requestIdOf(response) });
}

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

async function* streamRun<Output>(http: Transport, path: string, input: unknown, options: RequestOptions): AsyncGenerator<RunEvent<Output>, void, undefined> {
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

async function* subscribeTask<Output>(http: Transport, taskId: string, options: SubscribeOptions): AsyncGenerator<TaskEvent<Output>, void, undefined> {
  const link = follow(options.signal);
  const path = "/tasks/" + encodeURIComponent(taskId) + "/events";
  let last = options.after;
  let failures = 0;
  let serverDelay: number | undefined;
  try {
    for (;;) {
      let failure: unknown;
      try {
        const headers: Record<string, string> = last === undefined ? {} : { "last-event-id": String(last) };
        const response = await http.send("GET", path, { accept: "text/event-stream", headers, options: { ...options, signal: link.signal } });
        for await (const message of readEventStream(response)) {
          serverDelay = message.retry ?? serverDelay;
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
      failures += 1;
      if (failures > http.reconnectAttempts) throw failure;
      await pause(serverDelay ?? Math.min(http.reconnectDelayMs * 2 ** (failures - 1), 5000), link.signal);
    }
  } finally {
    link.stop();
  }
}

function graphClient<Input, Output>(http: Transport, path: string, graph: string, version: number): GraphClient<Input, Output> {
  const taskPath = (id: string) => "/tasks/" + encodeURIComponent(id);
  // A task id of another graph would come back with another output type: refuse it like an unknown id.
  const own = (task: Task<Output>): Task<Output> => {
    if (task.graph === graph && task.version === version) return task;
    throw new KaygraphApiError({ status: 404, error_code: "NOT_FOUND", message: "Task " + task.id + " belongs to " + task.graph + " v" + task.version + ", not " + graph + " v" + version + "." });
  };
  const task = async (id: string, options: RequestOptions = {}) => own(await http.json<Task<Output>>("GET", taskPath(id), { options }));
  return {
    async run(input, options = {}) {
      const body = await http.json<unknown>("POST", path, { body: input, options });
      if (typeof body !== "object" || body === null || !("result" in body)) {
        throw new KaygraphApiError({ status: 200, error_code: "UNEXPECTED_RESPONSE", message: "The answer of " + path + " has no result." });
      }
      return (body as { result: Output }).result;
    },
    submit(input, options = {}) {
      const headers: Record<string, string> = options.idempotencyKey === undefined ? {} : { "idempotency-key": options.idempotencyKey };
      return http.json<TaskAccepted>("POST", path + "/async", { body: input, headers, options });
    },
    stream(input, options = {}) {
      return streamRun<Output>(http, path + "/stream", input, options);
    },
    task,
    async cancel(id, options = {}) {
      // Checked first: cancelling must never touch another graph's task.
      await task(id, options);
      return own(await http.json<Task<Output>>("DELETE", taskPath(id), { options }));
    },
  };
}

function taskClient(http: Transport): TaskClient {
  const taskPath = (id: string) => "/tasks/" + encodeURIComponent(id);
  return {
    task: (id, options = {}) => http.json("GET", taskPath(id), { options }),
    cancel: (id, options = {}) => http.json("DELETE", taskPath(id), { options }),
    tasks(query = {}, options = {}) {
      const pairs = Object.entries(query).filter((pair) => pair[1] !== undefined);
      const search = pairs.map((pair) => encodeURIComponent(pair[0]) + "=" + encodeURIComponent(String(pair[1]))).join("&");
      return http.json("GET", search ? "/tasks?" + search : "/tasks", { options });
    },
    subscribe: (taskId, options = {}) => subscribeTask(http, taskId, options),
  };
}
// #endregion
`;
