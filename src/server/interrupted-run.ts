/**
 * A sync, streaming or WebSocket run that interrupts becomes a durable task: stored `interrupted` with its
 * checkpoint, so it can be resumed later (`POST /tasks/{id}/resume`) by anyone allowed to see it.
 */
import { resolveRetry } from "../definition/define.js";
import type { LoadedGraph } from "../definition/registry.js";
import type { DefinitionRunError } from "../definition/run-errors.js";
import type { TaskRecord } from "../tasks/index.js";
import type { AppContext } from "./context.js";
import { HttpError } from "./http-error.js";
import { taskWebhooks } from "../webhooks/endpoints.js";

/** Who ran it, for the stored task. */
export interface RunOrigin {
  input: unknown;
  owner: string | null;
  requestId: string;
}

/**
 * Stores the interrupted run `error` (code INTERRUPTED) of `graph` as an interrupted task and returns it.
 * Without a task store the interrupt cannot be kept: 503 UNAVAILABLE.
 *
 * @example
 * const task = await storeInterruptedRun(ctx, graph, error, { input: req.body, owner: req.user?.sub ?? null, requestId });
 */
export async function storeInterruptedRun(ctx: AppContext, graph: LoadedGraph, error: DefinitionRunError, origin: RunOrigin): Promise<TaskRecord> {
  const stop = error.interrupt;
  if (!ctx.tasks || stop === undefined) {
    throw new HttpError(503, "UNAVAILABLE", "The run was interrupted, but background tasks are not available on this server, so it cannot be kept for a resume.", { cause: error });
  }
  const def = graph.definition;
  const { task } = await ctx.tasks.submit({
    graph: graph.name,
    version: graph.version,
    input: origin.input,
    owner: origin.owner,
    requestId: origin.requestId,
    ...resolveRetry(def.retry),
    timeoutMs: def.taskTimeoutMs ?? def.timeoutMs ?? null,
    interrupted: stop,
    webhooks: taskWebhooks(ctx.config, def),
  });
  return task;
}

/** The URL of a task's record. */
export function checkUrl(taskId: string): string {
  return `/tasks/${taskId}`;
}
