/**
 * The two long-lived things a WebSocket client starts: a graph run and a task-event subscription. Each lives
 * under the client's message id until it ends, and every message it sends carries that id.
 */
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { GraphRegistry } from "../../definition/registry.js";
import { CancelledReason } from "../../definition/run.js";
import { DefinitionRunError } from "../../definition/run-errors.js";
import { storeInterruptedRun } from "../interrupted-run.js";
import { publicRunError } from "../../runs/public.js";
import { isTerminalStatus } from "../../tasks/index.js";
import type { AppContext } from "../context.js";
import { pauseMark, publicTaskEvent, TaskEventPump } from "../event-flow.js";
import type { ErrorCode } from "../http-error.js";
import { toHttpError } from "../middleware/errors.js";
import type { ResumeMessage, RunMessage, SubscribeMessage } from "./protocol.js";
import { IdempotencyMismatchError, TaskConflictError } from "../../tasks/index.js";
import { formatIssues } from "../../definition/run-errors.js";
import type { ConnectionInfo, LimitedMessage } from "./types.js";

/** An operation in flight on a connection. */
export interface Operation {
  kind: "run" | "subscribe";
  /** The client's `cancel`: a run ends with a CANCELLED error event; a subscription answers `cancelled`. */
  cancel(): void;
  /** The connection is going away: stop without a word. */
  stop(reason: Error): void;
}

/** What operations need from their connection. */
export interface OperationHost {
  readonly info: ConnectionInfo;
  readonly ctx: AppContext;
  readonly log: Logger;
  readonly buffered: number;
  send(message: object): boolean;
  /** Sends an event with the client's id. */
  sendEvent(id: string, event: object): boolean;
  /** Sends an event already serialised (`json`: its JSON text, an object) with the client's id. */
  sendEventText(id: string, json: string): boolean;
  sendError(id: string | undefined, code: ErrorCode, text: string, details?: unknown): void;
  /** Registers `op` under `id`; false (an error already sent) when the id is taken or too many are in flight. */
  register(id: string, op: Operation): boolean;
  release(id: string, op: Operation): void;
  /** Asks the limit hook; false (an error already sent) when refused. */
  allowed(message: LimitedMessage): Promise<boolean>;
  whenFlushed(resume: () => void): void;
}

/**
 * `{"type":"run"}`: finds the graph and validates the input (errors are answered as protocol errors, no run
 * starts), then runs it through the run service and sends each event with the message's id; the last one is
 * the terminal `result` or `error` (the service logs failures).
 */
export async function startRun(host: OperationHost, message: RunMessage): Promise<void> {
  const { runs } = host.ctx;
  const graph = runs.find(message.graph, message.version);
  if (!graph) {
    host.sendError(message.id, "NOT_FOUND", graphNotFound(runs.registry, message.graph, message.version));
    return;
  }
  let input: unknown;
  try {
    input = runs.check(graph, message.input ?? {});
  } catch (error) {
    const refusal = publicRunError(error as DefinitionRunError, runs.debug);
    host.sendError(message.id, refusal.code, refusal.message, refusal.details);
    return;
  }
  const controller = new AbortController();
  const op: Operation = { kind: "run", cancel: () => controller.abort(new CancelledReason("The run was cancelled by the client.")), stop: (reason) => controller.abort(reason) };
  if (!host.register(message.id, op)) return;
  const requestId = randomUUID();
  let lastSeq = 0;
  try {
    if (!(await host.allowed({ type: "run", id: message.id, graph }))) return;
    // A cancel while the hook was asked still starts the run: the client gets start + CANCELLED.
    await runs.start(graph, input, {
      transport: "ws",
      validated: true,
      controller,
      requestId,
      user: host.info.identity,
      // As JSON text: an event that cannot be serialised ends the run with an INTERNAL_ERROR event.
      onEventJson: (event, json) => {
        // An interrupt goes out once its task is stored, with the task's id (below).
        if (event.type === "interrupt") return;
        lastSeq = event.seq;
        host.sendEventText(message.id, json);
      },
    });
  } catch (error) {
    // Failures were already told through onEvent; an interrupt makes the run a task and ends with its id.
    if (error instanceof DefinitionRunError && error.code === "INTERRUPTED" && error.interrupt) {
      const stop = error.interrupt;
      const owner = host.info.identity?.sub ?? null;
      const task = await storeInterruptedRun(host.ctx, graph, error, { input: message.input ?? {}, owner, requestId }).catch((failure: unknown) => {
        host.log.error({ err: failure, graph: graph.name, message_id: message.id }, "could not store an interrupted run");
        return undefined;
      });
      host.sendEvent(
        message.id,
        task
          ? { type: "interrupt", seq: lastSeq + 1, ts: Date.now(), node: stop.node, value: stop.value, task_id: task.id }
          : { type: "error", seq: lastSeq + 1, ts: Date.now(), error: "The run was interrupted, but it could not be stored for a resume.", error_code: "UNAVAILABLE" },
      );
    }
  } finally {
    host.release(message.id, op);
  }
}

/**
 * `{"type":"subscribe"}`: every event of the task after `after_seq`, in order, live across processes (the
 * store's subscribe), ending after the terminal event. Paced by the socket: while the client is behind, the
 * subscription pauses and resumes from the last seq sent.
 */
export async function startSubscription(host: OperationHost, message: SubscribeMessage): Promise<void> {
  const { ctx } = host;
  const store = ctx.tasks;
  if (!store) {
    host.sendError(message.id, "UNAVAILABLE", "Background tasks are not available on this server.");
    return;
  }
  let pump: TaskEventPump | undefined;
  let stopped = false;
  const op: Operation = {
    kind: "subscribe",
    cancel: () => {
      stopped = true;
      pump?.stop();
      host.send({ type: "cancelled", id: message.id });
      host.release(message.id, op);
    },
    stop: () => {
      stopped = true;
      pump?.stop();
    },
  };
  if (!host.register(message.id, op)) return;
  let live = false;
  try {
    if (!(await host.allowed({ type: "subscribe", id: message.id, taskId: message.task_id }))) return;
    const scope = ctx.config.auth.mode === "jwt" ? { owner: host.info.identity?.sub ?? null } : {};
    const task = await store.get(message.task_id, scope);
    if (stopped) return;
    if (!task) {
      host.sendError(message.id, "NOT_FOUND", `No task ${message.task_id} (it may have been pruned, or belong to someone else).`);
      return;
    }
    const after = message.after_seq ?? 0;
    // Nothing will ever come after the terminal event: say so rather than wait forever.
    if (after > 0 && isTerminalStatus(task.status) && (await store.events(task.id, after)).length === 0) {
      if (!stopped) host.sendError(message.id, "CONFLICT", `Task ${task.id} has ended (${task.status}) and has no events after seq ${after}.`, { status: task.status });
      return;
    }
    if (stopped) return;
    const mark = pauseMark(ctx.config);
    live = true;
    pump = new TaskEventPump(
      store,
      task.id,
      after,
      { write: (event) => host.sendEvent(message.id, publicTaskEvent(event, ctx.debug)) && host.buffered < mark, whenWritable: (resume) => host.whenFlushed(resume) },
      () => host.release(message.id, op),
    );
    pump.start();
  } catch (error) {
    sendFailure(host, message, error, "subscribe");
  } finally {
    if (!live) host.release(message.id, op);
  }
}

/**
 * `{"type":"resume"}`: answers an interrupted task (checked by its graph's `resume` schema) and streams the
 * resumed run: the task's events after its interrupt, as a subscription (ending after the task's final event).
 */
export async function startResume(host: OperationHost, message: ResumeMessage): Promise<void> {
  const { ctx } = host;
  const store = ctx.tasks;
  if (!store) {
    host.sendError(message.id, "UNAVAILABLE", "Background tasks are not available on this server.");
    return;
  }
  const scope = ctx.config.auth.mode === "jwt" ? { owner: host.info.identity?.sub ?? null } : {};
  let after: number;
  try {
    const task = await store.get(message.task_id, scope);
    if (!task) {
      host.sendError(message.id, "NOT_FOUND", `No task ${message.task_id} (it may have been pruned, or belong to someone else).`);
      return;
    }
    const parsed = ctx.registry.find(task.graph, task.version)?.definition.resume?.safeParse(message.value);
    if (parsed && !parsed.success) {
      host.sendError(message.id, "VALIDATION_ERROR", `Invalid resume value for ${task.graph} v${task.version}:\n${formatIssues(parsed.error.issues)}`, parsed.error.issues);
      return;
    }
    // The resumed run's events follow the interrupt event, the last one stored now.
    after = (await store.events(task.id)).at(-1)?.seq ?? 0;
    await store.resume(task.id, message.value, scope);
  } catch (error) {
    if (error instanceof TaskConflictError) host.sendError(message.id, "CONFLICT", error.message, { status: error.taskStatus });
    else if (error instanceof IdempotencyMismatchError) host.sendError(message.id, "IDEMPOTENCY_MISMATCH", error.message);
    else sendFailure(host, message, error, "resume");
    return;
  }
  await startSubscription(host, { type: "subscribe", id: message.id, task_id: message.task_id, after_seq: after });
}

/**
 * Answers a subscribe or resume that failed: through the HTTP API's one mapping ({@link toHttpError}), so a
 * store that is down is the same 503 UNAVAILABLE with `details: { store, backend }` (its `Retry-After` as
 * `details.retry_after`, as every WebSocket refusal carries it); an unexpected error is logged and answered
 * INTERNAL_ERROR without its text.
 */
function sendFailure(host: OperationHost, message: SubscribeMessage | ResumeMessage, error: unknown, what: "subscribe" | "resume"): void {
  const answer = toHttpError(error, host.ctx.debug);
  if (answer.code === "INTERNAL_ERROR") {
    host.log.error({ err: error, task_id: message.task_id }, `websocket ${what} failed`);
    host.sendError(message.id, "INTERNAL_ERROR", `The ${what === "subscribe" ? "subscription" : "resume"} failed; the server log has the details.`);
    return;
  }
  const retryAfter = Number(answer.headers["Retry-After"] ?? Number.NaN);
  const details = Number.isFinite(retryAfter) ? { ...(answer.details as object | undefined), retry_after: retryAfter } : answer.details;
  host.sendError(message.id, answer.code, answer.message, details);
}

function graphNotFound(registry: GraphRegistry, name: string, version: number | undefined): string {
  const versions = registry
    .list()
    .filter((g) => g.name === name)
    .map((g) => g.version);
  if (versions.length > 0) return `Graph "${name}" has no version ${version}; it has ${versions.join(", ")}.`;
  const known = registry.list().map((g) => `${g.name}@${g.version}`);
  return `No graph named "${name}".${known.length ? ` Available: ${known.join(", ")}.` : ""}`;
}
