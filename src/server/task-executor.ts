import { context } from "@opentelemetry/api";
import { DefinitionRunError } from "../definition/run-errors.js";
import { contextOfCarrier } from "../tracing/propagation.js";
import type { RunService } from "../runs/service.js";
import type { TaskExecute } from "../tasks/index.js";

/**
 * Runs a claimed task's graph through the run service: the definition of its graph and version, its stored
 * input, the task's request id and owner, and the runner's signal (cancel, timeout, shutdown). The runner
 * stores the events and decides between retry and fail from the error's `code`.
 */
export function createTaskExecutor(runs: RunService): TaskExecute {
  return async (task, { signal, emit, checkpoint, startCheckpointHeld }) => {
    const graph = runs.find(task.graph, task.version);
    if (!graph) throw new DefinitionRunError("GRAPH_ERROR", `Graph ${task.graph} v${task.version} is not served by this process any more.`);
    // The attempt runs in the submitting request's trace (stored with the task), whichever process claims it.
    const parent = task.trace_context === null ? context.active() : contextOfCarrier(task.trace_context);
    return context.with(parent, () => runs.start(graph, task.input, {
      transport: "task",
      signal,
      requestId: task.request_id ?? task.id,
      runId: task.id,
      taskId: task.id,
      // Tasks keep the owner's `sub`; the rest of the token is not stored with the task.
      ...(task.owner !== null && { user: { sub: task.owner, tier: "unknown", claims: { sub: task.owner } } }),
      // A task continues from its latest checkpoint (after an interrupt, a crash or a failed attempt).
      ...(task.checkpoint !== null && { from: task.checkpoint, resume: task.checkpoint.resume }),
      onCheckpoint: checkpoint,
      startCheckpointHeld,
      onEvent: emit,
    }));
  };
}
