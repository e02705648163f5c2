import type { Logger } from "pino";
import type { GraphRegistry } from "../definition/registry.js";
import { runDefinition } from "../definition/run.js";
import { DefinitionRunError } from "../definition/run-errors.js";
import type { TaskExecute } from "../tasks/index.js";
import type { Metrics } from "./metrics.js";

/**
 * Runs a claimed task's graph: the definition of its graph and version, its stored input, the task's request
 * id and owner, and the runner's signal (cancel, timeout, shutdown). The runner stores the events and decides
 * between retry and fail from the error's `code`.
 */
export function createTaskExecutor(registry: GraphRegistry, observers: { metrics?: Metrics; logger?: Logger } = {}): TaskExecute {
  return async (task, { signal, emit }) => {
    const graph = registry.find(task.graph, task.version);
    if (!graph) throw new DefinitionRunError("GRAPH_ERROR", `Graph ${task.graph} v${task.version} is not served by this process any more.`);
    const meter = observers.metrics?.runMeter(graph, "task");
    const started = meter?.begin() ?? 0;
    let outcome = "error";
    try {
      const output = await runDefinition(graph, task.input, {
        signal,
        requestId: task.request_id ?? task.id,
        runId: task.id,
        taskId: task.id,
        // Tasks keep the owner's `sub`; the rest of the token is not stored with the task.
        ...(task.owner !== null && { user: { sub: task.owner, tier: "unknown", claims: { sub: task.owner } } }),
        onEvent: (event) => {
          meter?.onEvent(event);
          emit(event);
        },
      });
      outcome = "completed";
      return output;
    } catch (error) {
      if (error instanceof DefinitionRunError) outcome = error.code.toLowerCase();
      if (outcome === "graph_error") observers.logger?.warn({ err: (error as DefinitionRunError).cause ?? error, task_id: task.id, request_id: task.request_id }, "task attempt failed");
      throw error;
    } finally {
      meter?.end(started, outcome);
    }
  };
}
