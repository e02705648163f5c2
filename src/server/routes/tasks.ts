import { Router, type Request, type Response } from "express";
import { z } from "zod";
import { resolveRetry } from "../../definition/define.js";
import type { LoadedGraph } from "../../definition/registry.js";
import { formatIssues } from "../../definition/run-errors.js";
import { IdempotencyMismatchError, InvalidCursorError, TASK_STATUSES, TaskConflictError, isTerminalStatus, type TaskStore } from "../../tasks/index.js";
import type { AppContext } from "../context.js";
import { pauseMark, publicTask, publicTaskEvent, TaskEventPump } from "../event-flow.js";
import { HttpError } from "../http-error.js";
import { methodNotAllowed } from "../middleware/errors.js";
import { mountGraphPosts, type Mount } from "./graph-post.js";
import { requestIdOf } from "../middleware/request-id.js";
import { openSse } from "../sse.js";
import { endStreamAtDeadline } from "../run-abort.js";
import { currentTraceCarrier } from "../../tracing/propagation.js";
import { jsonBody } from "../middleware/body.js";
import { taskWebhooks } from "../../webhooks/endpoints.js";
import { sendJsonText } from "../json-response.js";

/** An Idempotency-Key: 1–255 visible ASCII characters. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

const listQuery = z.object({
  status: z.enum(TASK_STATUSES as [string, ...string[]]).optional(),
  graph: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().min(1).optional(),
});

/** The caller's scope: with auth on, a task is visible only to the subject that created it. */
function scopeOf(ctx: AppContext, req: Request): { owner?: string | null } {
  return ctx.config.auth.mode === "jwt" ? { owner: req.user?.sub ?? null } : {};
}

function storeOf(ctx: AppContext): TaskStore {
  if (!ctx.tasks) throw new HttpError(503, "UNAVAILABLE", "Background tasks are not available on this server.");
  return ctx.tasks;
}

/** Maps the task store's errors to HTTP errors. */
function taskError(error: unknown): never {
  if (error instanceof IdempotencyMismatchError) throw new HttpError(422, "IDEMPOTENCY_MISMATCH", error.message, { details: { task_id: error.taskId }, cause: error });
  if (error instanceof TaskConflictError) throw new HttpError(409, "CONFLICT", error.message, { details: { status: error.taskStatus }, cause: error });
  if (error instanceof InvalidCursorError) throw new HttpError(422, "VALIDATION_ERROR", error.message, { cause: error });
  throw error;
}

/** `POST /api/v{V}/{G}/async` for every graph version: validate, store the task, answer 202. */
export function asyncRoutes<M extends Mount = Router>(ctx: AppContext, router: M = Router() as unknown as M): M {
  return mountGraphPosts(ctx, router, "async", submitHandler);
}

function submitHandler(ctx: AppContext, graph: LoadedGraph) {
  const def = graph.definition;
  return async (req: Request, res: Response): Promise<void> => {
    const store = storeOf(ctx);
    // The raw input is stored (the run validates it again, with the definition of its time).
    ctx.runs.check(graph, req.body);
    const key = req.get("idempotency-key");
    if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) throw new HttpError(422, "VALIDATION_ERROR", "Idempotency-Key must be 1–255 visible ASCII characters.");
    const { task, replayed } = await store
      .submit({
        graph: graph.name,
        version: graph.version,
        input: req.body,
        owner: req.user?.sub ?? null,
        requestId: requestIdOf(req),
        ...(key !== undefined && { idempotencyKey: key }),
        ...resolveRetry(def.retry),
        timeoutMs: def.taskTimeoutMs ?? def.timeoutMs ?? null,
        traceContext: currentTraceCarrier() ?? null,
        webhooks: taskWebhooks(ctx.config, def),
      })
      .catch(taskError);
    const checkUrl = `/tasks/${task.id}`;
    if (replayed) res.setHeader("Idempotent-Replayed", "true");
    res.setHeader("Location", checkUrl);
    sendJsonText(res, 202, JSON.stringify({ task_id: task.id, status: replayed ? task.status : "pending", check_url: checkUrl }));
  };
}

/** `/tasks`, `/tasks/{id}` (GET, DELETE), `/tasks/{id}/events` (SSE, resumable), `/tasks/{id}/resume`, `/tasks/{id}/state`. */
export function taskRoutes(ctx: AppContext, router: Router = Router()): Router {
  durableRoutes(ctx, router);
  router
    .route("/tasks")
    .get(async (req, res) => {
      const query = listQuery.safeParse(req.query);
      if (!query.success) throw new HttpError(422, "VALIDATION_ERROR", `Invalid query:\n${formatIssues(query.error.issues)}`, { details: query.error.issues });
      const page = await storeOf(ctx)
        .list({ ...scopeOf(ctx, req), ...query.data, status: query.data.status as (typeof TASK_STATUSES)[number] | undefined })
        .catch(taskError);
      res.json({ ...page, tasks: page.tasks.map((task) => publicTask(task, ctx.debug)) });
    })
    .all(methodNotAllowed(["GET"]));
  router
    .route("/tasks/:id")
    .get(async (req, res) => {
      const task = await storeOf(ctx).get(String(req.params.id), scopeOf(ctx, req));
      if (!task) throw notFound(String(req.params.id));
      res.json(publicTask(task, ctx.debug));
    })
    .delete(async (req, res) => {
      const task = await storeOf(ctx).cancel(String(req.params.id), scopeOf(ctx, req)).catch(taskError);
      if (!task) throw notFound(String(req.params.id));
      res.json(publicTask(task, ctx.debug));
    })
    .all(methodNotAllowed(["GET", "DELETE"]));
  router
    .route("/tasks/:id/events")
    .get(async (req, res) => {
      const id = String(req.params.id);
      const store = storeOf(ctx);
      const task = await store.get(id, scopeOf(ctx, req));
      if (!task) throw notFound(id);
      const after = resumePoint(req);
      // A resume from the terminal event on: nothing will ever come. 204 also stops a browser EventSource
      // from reconnecting in a loop (it reconnects whenever a stream ends).
      if (after > 0 && isTerminalStatus(task.status) && (await store.events(id, after)).length === 0) {
        res.status(204).end();
        return;
      }
      const pump: { current?: TaskEventPump } = {};
      const sse = openSse(res, { heartbeatMs: ctx.config.ws.heartbeatMs / 2, onClose: () => pump.current?.stop() });
      // At the drain deadline: a notice, not an event of the task (no seq, no `id:`, so Last-Event-ID stays on
      // the last event received): reconnect to get the rest from another worker.
      endStreamAtDeadline(res, () => {
        pump.current?.stop();
        sse.sendText("error", undefined, JSON.stringify({ type: "error", ts: Date.now(), error: TASK_EVENTS_SHUTTING_DOWN, error_code: "UNAVAILABLE" }));
        sse.close();
      });
      const mark = pauseMark(ctx.config);
      pump.current = new TaskEventPump(
        store,
        id,
        after,
        {
          // A catch-up on a large task pauses while the reader is behind instead of buffering it all.
          write: (event) => sse.send(publicTaskEvent(event, ctx.debug)) && res.writableLength < mark,
          whenWritable: (resume) => res.once("drain", resume),
        },
        () => sse.close(),
      );
      if (!sse.closed) pump.current.start();
    })
    .all(methodNotAllowed(["GET"]));
  return router;
}

/** What a task-event stream still open at the drain deadline is told before it ends. */
const TASK_EVENTS_SHUTTING_DOWN = "The server is shutting down; reconnect with Last-Event-ID to receive the rest of this task's events.";

function notFound(id: string): HttpError {
  return new HttpError(404, "NOT_FOUND", `No task ${id} (it may have been pruned, or belong to someone else).`);
}

/** Resume after `Last-Event-ID` (or `?after=`): the seq of the last event the client has. */
function resumePoint(req: Request): number {
  const raw = req.get("last-event-id") ?? (typeof req.query.after === "string" ? req.query.after : undefined);
  if (raw === undefined) return 0;
  const seq = Number(raw);
  if (!Number.isInteger(seq) || seq < 0) throw new HttpError(422, "VALIDATION_ERROR", "Last-Event-ID (or ?after=) must be a whole number >= 0: the seq of the last event received.");
  return seq;
}

/**
 * `POST /tasks/{id}/resume` (`{ "value": … }`, checked by the definition's `resume` schema, 202 with the
 * record; 409 unless interrupted; honours Idempotency-Key) and `GET /tasks/{id}/state` (the latest checkpoint).
 */
function durableRoutes(ctx: AppContext, router: Router): void {
  router
    .route("/tasks/:id/resume")
    .post(...jsonBody(ctx.config.server.bodyLimit, ctx.config.server.maxJsonDepth), async (req, res) => {
      const id = String(req.params.id);
      const store = storeOf(ctx);
      const scope = scopeOf(ctx, req);
      const key = req.get("idempotency-key");
      if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) throw new HttpError(422, "VALIDATION_ERROR", "Idempotency-Key must be 1–255 visible ASCII characters.");
      const body: unknown = req.body;
      if (body === null || typeof body !== "object" || Array.isArray(body) || !("value" in body)) {
        throw new HttpError(422, "VALIDATION_ERROR", 'Send the resume value as a JSON object: { "value": <json> }.');
      }
      const value = (body as { value: unknown }).value;
      const task = await store.get(id, scope);
      if (!task) throw notFound(id);
      // Checked against the schema of the graph version that runs the task (the stored raw value is what it parses).
      const schema = ctx.registry.find(task.graph, task.version)?.definition.resume;
      const parsed = schema?.safeParse(value);
      if (parsed && !parsed.success) {
        throw new HttpError(422, "VALIDATION_ERROR", `Invalid resume value for ${task.graph} v${task.version}:\n${formatIssues(parsed.error.issues)}`, { details: parsed.error.issues });
      }
      const result = await store.resume(id, value, { ...scope, ...(key !== undefined && { idempotencyKey: key }) }).catch(taskError);
      if (!result) throw notFound(id);
      const url = `/tasks/${id}`;
      if (result.replayed) res.setHeader("Idempotent-Replayed", "true");
      res.setHeader("Location", url);
      res.status(202).json({ ...publicTask(result.task, ctx.debug), check_url: url });
    })
    .all(methodNotAllowed(["POST"]));
  router
    .route("/tasks/:id/state")
    .get(async (req, res) => {
      const id = String(req.params.id);
      const state = await storeOf(ctx).state(id, scopeOf(ctx, req));
      if (state === undefined) throw notFound(id);
      if (state === null) throw new HttpError(404, "NOT_FOUND", `Task ${id} has no checkpoint yet (it has not started, or its graph sets checkpoint: false).`);
      res.json({ shared: state.shared, next_node: state.next_node, step: state.step });
    })
    .all(methodNotAllowed(["GET"]));
}
