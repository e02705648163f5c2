/**
 * The public types and the error class of the kaygraph client (`kaygraph/client`, and copied into every
 * generated client). Web platform only: it compiles with the DOM lib or @types/node.
 */

/** Options of createClient(). */
export interface ClientOptions {
  /** The API's base URL, e.g. "http://localhost:8000"; a path prefix ("https://host/kg") is kept. */
  baseUrl: string;
  /** A bearer token (JWT), or a function returning one for each request (to refresh it). */
  token?: string | (() => string | undefined | Promise<string | undefined>) | undefined;
  /** The fetch to use; default: the global fetch. */
  fetch?: ((url: string, init: RequestInit) => Promise<Response>) | undefined;
  /** Headers sent with every request. */
  headers?: Record<string, string> | undefined;
  /**
   * How subscribe() reconnects after a dropped connection: at most attempts (default 5) reconnects in a
   * row without a new event, waiting delayMs (default 250) doubling up to 5 s, or what the server's
   * "retry:" field says. A server's shutdown notice is no failure: it is followed by a reconnect after
   * delayMs (or "retry:") that spends no attempt.
   */
  reconnect?: { attempts?: number | undefined; delayMs?: number | undefined } | undefined;
}

/** Options of one call. */
export interface RequestOptions {
  /** Aborts the call; for stream() it also ends the run on the server. */
  signal?: AbortSignal | undefined;
  /** Extra headers for this call. */
  headers?: Record<string, string> | undefined;
  /** Sent as X-Request-ID (1–128 chars of [A-Za-z0-9._:-]): the id in the server's logs, events and errors. */
  requestId?: string | undefined;
}

/** Options of submit(). */
export interface SubmitOptions extends RequestOptions {
  /** Sent as Idempotency-Key: the same key and body return the same task instead of a new one. */
  idempotencyKey?: string | undefined;
}

/** Options of subscribe(). */
export interface SubscribeOptions extends RequestOptions {
  /** Start after this event seq (sent as Last-Event-ID); default: from the first event. */
  after?: number | undefined;
}

/** Filters and paging of tasks(). */
export interface TaskQuery {
  status?: TaskStatus | undefined;
  graph?: string | undefined;
  /** 1–100. */
  limit?: number | undefined;
  /** next_cursor of the previous page. */
  cursor?: string | undefined;
}

/** pending → running → (interrupted → pending → running →)* completed | failed | cancelled; terminal states never change. */
export type TaskStatus = "pending" | "running" | "interrupted" | "completed" | "failed" | "cancelled";

/** A background task (GET /tasks/{id}); result is the graph's output once completed. */
export interface Task<Output = unknown> {
  id: string;
  graph: string;
  version: number;
  status: TaskStatus;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  attempts: number;
  result: Output | null;
  error: { error_code: string; message: string } | null;
  request_id?: string | null;
  /** What an interrupted task waits for: the node that called interrupt() and the value it passed. */
  interrupt?: { node: string; value: unknown } | null;
}

/** The latest checkpoint of a task (GET /tasks/{id}/state). */
export interface TaskState {
  /** The shared store after the last completed node. */
  shared: unknown;
  /** The node the run continues with, or null when it ended. */
  next_node: string | null;
  /** Node steps completed so far. */
  step: number;
}

/** A page of tasks (GET /tasks), newest first. */
export interface TaskPage<Output = unknown> {
  tasks: Task<Output>[];
  next_cursor: string | null;
}

/** The answer of submit() (202): where to find the task. */
export interface TaskAccepted {
  task_id: string;
  status: TaskStatus;
  check_url: string;
}

export interface EventBase {
  /** 1, 2, 3… per run (per task for task events), no gaps. */
  seq: number;
  /** Epoch milliseconds. */
  ts: number;
}

/** A run event (the one event model of kaygraph); the result event carries the graph's Output. */
export type RunEvent<Output = unknown> =
  | (EventBase & { type: "start"; run_id: string })
  | (EventBase & { type: "node_start"; node: string })
  | (EventBase & { type: "node_end"; node: string; action: string; duration_ms: number; retries?: number })
  | (EventBase & { type: "data"; node: string; chunk: unknown })
  | (EventBase & { type: "result"; result: Output })
  | (EventBase & { type: "error"; error: string; error_code: string; node?: string })
  | (EventBase & { type: "interrupt"; node: string; value: unknown; task_id?: string });

/** Between two attempts of a task that failed and will be retried. */
export type RetryEvent = EventBase & { type: "retry"; attempt: number; error: string; error_code: string; delay_ms: number };

/** An event of a background task: the run events of every attempt and retry events between them. */
export type TaskEvent<Output = unknown> = RunEvent<Output> | RetryEvent;

/**
 * The API's error codes, and the client's own: STREAM_INTERRUPTED (an event stream ended before its final
 * event) and UNEXPECTED_RESPONSE (an answer that is not the API's JSON or event stream).
 */
export type ApiErrorCode =
  | "INVALID_JSON" | "UNAUTHORIZED" | "FORBIDDEN" | "NOT_FOUND" | "METHOD_NOT_ALLOWED" | "CONFLICT"
  | "PAYLOAD_TOO_LARGE" | "UNSUPPORTED_MEDIA_TYPE" | "VALIDATION_ERROR" | "IDEMPOTENCY_MISMATCH"
  | "RATE_LIMITED" | "GRAPH_ERROR" | "INTERNAL_ERROR" | "RESOURCE_EXHAUSTED" | "CHECKPOINT_FAILED" | "UNAVAILABLE" | "TIMEOUT"
  | "STREAM_INTERRUPTED" | "UNEXPECTED_RESPONSE" | "INTERRUPTED"
  | (string & {});

/** An error answer of the API: { error, error_code, request_id, details } and the HTTP status. */
export class KaygraphApiError extends Error {
  /** HTTP status (200 for a stream that broke off). */
  readonly status: number;
  readonly error_code: ApiErrorCode;
  /** The request id, the key to the server's log lines. */
  readonly request_id: string | undefined;
  /** Zod issues for VALIDATION_ERROR; other details for some codes. */
  readonly details: unknown;
  /** Seconds to wait before trying again (Retry-After of 429 and 503), when the server said. */
  readonly retry_after: number | undefined;

  constructor(init: { status: number; error_code: ApiErrorCode; message: string; request_id?: string | undefined; details?: unknown; retry_after?: number | undefined }) {
    super(init.message);
    this.name = "KaygraphApiError";
    this.status = init.status;
    this.error_code = init.error_code;
    this.request_id = init.request_id;
    this.details = init.details;
    this.retry_after = init.retry_after;
  }
}

/** Calls of one graph version; `Resume` is the value its `resume` schema accepts (unknown without one). */
export interface GraphClient<Input, Output, Resume = unknown> {
  /**
   * POST /api/v{V}/{G}: runs the graph and resolves to its output. A run that interrupts becomes a task: it
   * throws a KaygraphApiError with error_code INTERRUPTED and the task record in `details`.
   */
  run(input: Input, options?: RequestOptions): Promise<Output>;
  /** POST /api/v{V}/{G}/async: queues a durable background task. */
  submit(input: Input, options?: SubmitOptions): Promise<TaskAccepted>;
  /**
   * POST /api/v{V}/{G}/stream: runs the graph and yields its events as they happen, ending after the result
   * (typed Output), error or interrupt event. Leaving the loop early ends the run on the server.
   */
  stream(input: Input, options?: RequestOptions): AsyncGenerator<RunEvent<Output>, void, undefined>;
  /** GET /tasks/{id} of a task of this graph version, its result typed; a task of another graph is NOT_FOUND. */
  task(id: string, options?: RequestOptions): Promise<Task<Output>>;
  /** DELETE /tasks/{id} of a task of this graph version; one that already ended is a CONFLICT error. */
  cancel(id: string, options?: RequestOptions): Promise<Task<Output>>;
  /**
   * POST /tasks/{id}/resume of an interrupted task of this graph version, with a value of its `resume` schema
   * (the server checks it too: VALIDATION_ERROR); a task that is not interrupted is a CONFLICT error.
   */
  resume(id: string, value: Resume, options?: SubmitOptions): Promise<Task<Output>>;
  /** GET /tasks/{id}/state of a task of this graph version: its latest checkpoint. */
  state(id: string, options?: RequestOptions): Promise<TaskState>;
}

/** Calls on background tasks of any graph. Output is what you expect the task's graph to return. */
export interface TaskClient {
  /** GET /tasks/{id}. */
  task<Output = unknown>(id: string, options?: RequestOptions): Promise<Task<Output>>;
  /** DELETE /tasks/{id}: cancels it; a task that already ended is a CONFLICT error. */
  cancel<Output = unknown>(id: string, options?: RequestOptions): Promise<Task<Output>>;
  /** GET /tasks: a page of tasks, newest first; pass next_cursor as cursor for the next page. */
  tasks<Output = unknown>(query?: TaskQuery, options?: RequestOptions): Promise<TaskPage<Output>>;
  /**
   * GET /tasks/{id}/events: the task's events, stored then live, ending after its final event (result or
   * error) or an interrupt (the task then waits for resume(); subscribe again with `after` to follow it). A
   * dropped connection is resumed after the last event seen (Last-Event-ID): no gap, no duplicate.
   */
  subscribe<Output = unknown>(taskId: string, options?: SubscribeOptions): AsyncGenerator<TaskEvent<Output>, void, undefined>;
  /** POST /tasks/{id}/resume: answers an interrupted task with `value`; a task that is not interrupted is a CONFLICT error. */
  resume<Output = unknown>(id: string, value: unknown, options?: SubmitOptions): Promise<Task<Output>>;
  /** GET /tasks/{id}/state: the task's latest checkpoint. */
  state(id: string, options?: RequestOptions): Promise<TaskState>;
}
