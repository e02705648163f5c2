/** The graph runtime: nodes, graphs, batches, events. Knows nothing of HTTP or the CLI. */
export { Node, END, cloneNode, runStep, runInContext } from "./node.js";
export type { Action, MaybePromise, NodeOptions, Params } from "./node.js";
export { Graph } from "./graph.js";
export type { GraphOptions } from "./graph.js";
export { BatchNode, BatchGraph, mapConcurrent } from "./batch.js";
export type { BatchGraphOptions } from "./batch.js";
export { ParallelBatchNode, ParallelBatchGraph } from "./parallel.js";
export type { ParallelBatchNodeOptions, ParallelBatchGraphOptions } from "./parallel.js";
export { ValidatedNode } from "./validated-node.js";
export type { ParseSchema, ValidatedNodeOptions } from "./validated-node.js";
export { MetricsNode } from "./metrics-node.js";
export type { MetricsNodeOptions, NodeStats } from "./metrics-node.js";
export { RunContext, NEVER_ABORTED, abortableSleep } from "./run-context.js";
export type { RunOptions } from "./run-context.js";
export { AbortError, MaxStepsError, errorCodeOf, messageOf } from "./run-errors.js";
export { isTerminalEvent, isFinalEvent } from "./events.js";
export type { RunEvent, RunEventType, RunEventListener, StartEvent, NodeStartEvent, NodeEndEvent, DataEvent, ResultEvent, ErrorEvent, InterruptEvent } from "./events.js";
export { GraphInterrupt, CheckpointError } from "./interrupt.js";
export type { Checkpoint } from "./interrupt.js";
export { checkpointJson, findNonJson, nodeKeys } from "./checkpoint.js";
// KayGraph and PocketFlow names, so code ports 1:1 (every node is async here).
export { Node as AsyncNode } from "./node.js";
export { Graph as AsyncGraph, Graph as Flow } from "./graph.js";
export { BatchNode as AsyncBatchNode, BatchGraph as AsyncBatchGraph, BatchGraph as BatchFlow } from "./batch.js";
export {
  ParallelBatchNode as AsyncParallelBatchNode,
  ParallelBatchGraph as AsyncParallelBatchGraph,
  ParallelBatchGraph as ParallelBatchFlow,
} from "./parallel.js";
