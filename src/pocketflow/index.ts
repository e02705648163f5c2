/**
 * `kaygraph/pocketflow`: PocketFlow-TS's classes, with PocketFlow-TS's types, over kaygraph's runtime. Code
 * written for the `pocketflow` package ports by changing its import; the values are kaygraph's own classes
 * (`Node` here is `Node` from `kaygraph`), so such graphs run in `defineGraph`, the server, tasks and streams.
 *
 * @example
 * import { Flow, Node } from "kaygraph/pocketflow";
 *
 * type Params = { file: string };
 * class Read extends Node<{ texts: Record<string, string> }, Params> {
 *   async prep() { return this._params.file }
 *   async post(shared: { texts: Record<string, string> }, file: string) { shared.texts[file] = "…"; return undefined }
 * }
 * await new Flow(new Read().setParams({ file: "a.txt" })).run({ texts: {} });
 */
import { BatchGraph, BatchNode as RuntimeBatchNode } from "../graph/batch.js";
import { Graph } from "../graph/graph.js";
import { Node as RuntimeNode } from "../graph/node.js";
import { ParallelBatchGraph, ParallelBatchNode as RuntimeParallelBatchNode } from "../graph/parallel.js";
import type {
  NonIterableObject,
  PocketFlowBaseNode,
  PocketFlowBatchFlow,
  PocketFlowBatchNode,
  PocketFlowFlow,
  PocketFlowNode,
  PocketFlowParallelBatchFlow,
  PocketFlowParallelBatchNode,
} from "./types.js";

export type { NonIterableObject, PocketFlowAction } from "./types.js";

/** PocketFlow-TS `BaseNode<S, P>`: kaygraph's `Node` (which has retries too). */
export const BaseNode = RuntimeNode as unknown as typeof PocketFlowBaseNode;
/** PocketFlow-TS `BaseNode<S, P>`: `S` the shared store, `P` the params. */
export type BaseNode<S = unknown, P extends NonIterableObject = NonIterableObject> = PocketFlowBaseNode<S, P>;

/** PocketFlow-TS `Node<S, P>`: kaygraph's `Node`; `new Node(maxRetries, wait)` with `wait` in seconds. */
export const Node = RuntimeNode as unknown as typeof PocketFlowNode;
/** PocketFlow-TS `Node<S, P>`: `S` the shared store, `P` the params. */
export type Node<S = unknown, P extends NonIterableObject = NonIterableObject> = PocketFlowNode<S, P>;

/** PocketFlow-TS `BatchNode<S, P>`: kaygraph's `BatchNode`. */
export const BatchNode = RuntimeBatchNode as unknown as typeof PocketFlowBatchNode;
/** PocketFlow-TS `BatchNode<S, P>`. */
export type BatchNode<S = unknown, P extends NonIterableObject = NonIterableObject> = PocketFlowBatchNode<S, P>;

/** PocketFlow-TS `ParallelBatchNode<S, P>`: kaygraph's `ParallelBatchNode` (`{ concurrency }` bounds it). */
export const ParallelBatchNode = RuntimeParallelBatchNode as unknown as typeof PocketFlowParallelBatchNode;
/** PocketFlow-TS `ParallelBatchNode<S, P>`. */
export type ParallelBatchNode<S = unknown, P extends NonIterableObject = NonIterableObject> = PocketFlowParallelBatchNode<S, P>;

/** PocketFlow-TS `Flow<S, P>`: kaygraph's `Graph`; `run` resolves to the last action. */
export const Flow = Graph as unknown as typeof PocketFlowFlow;
/** PocketFlow-TS `Flow<S, P>`. */
export type Flow<S = unknown, P extends NonIterableObject = NonIterableObject> = PocketFlowFlow<S, P>;

/** PocketFlow-TS `BatchFlow<S, P, NP>`: kaygraph's `BatchGraph`. */
export const BatchFlow = BatchGraph as unknown as typeof PocketFlowBatchFlow;
/** PocketFlow-TS `BatchFlow<S, P, NP>`: `NP` is what `prep` returns, one params object per run. */
export type BatchFlow<S = unknown, P extends NonIterableObject = NonIterableObject, NP extends NonIterableObject[] = NonIterableObject[]> = PocketFlowBatchFlow<S, P, NP>;

/** PocketFlow-TS `ParallelBatchFlow<S, P, NP>`: kaygraph's `ParallelBatchGraph` (`{ concurrency }` bounds it). */
export const ParallelBatchFlow = ParallelBatchGraph as unknown as typeof PocketFlowParallelBatchFlow;
/** PocketFlow-TS `ParallelBatchFlow<S, P, NP>`. */
export type ParallelBatchFlow<S = unknown, P extends NonIterableObject = NonIterableObject, NP extends NonIterableObject[] = NonIterableObject[]> = PocketFlowParallelBatchFlow<
  S,
  P,
  NP
>;
