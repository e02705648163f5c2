/**
 * PocketFlow-TS's class types, declared over kaygraph's runtime classes. Nothing here exists at run time:
 * `index.ts` exports the runtime classes under these types. Each declared class extends the runtime class
 * type, so a PocketFlow-typed node is also a kaygraph `Node` (hooks, `emit`, `signal`, `interrupt`…) and
 * goes anywhere a kaygraph node goes; the members PocketFlow-TS declares are re-declared with its own
 * signatures (`P` is the params type, lifecycle methods return promises).
 */
import type { GraphOptions } from "../graph/graph.js";
import { Node, type NodeOptions } from "../graph/node.js";
import type { ParallelBatchGraphOptions, ParallelBatchNodeOptions } from "../graph/parallel.js";
import type { RunOptions } from "../graph/run-context.js";

/** What PocketFlow-TS accepts as params: a plain object, not an array or other iterable. */
export type NonIterableObject = Partial<Record<string, unknown>> & { [Symbol.iterator]?: never };

/** An action name, as PocketFlow-TS types it (`post` may also resolve to undefined: `"default"`). */
export type PocketFlowAction = string;

/** Type of `BaseNode` from `kaygraph/pocketflow`: PocketFlow-TS's `BaseNode<S, P>` on kaygraph's `Node`. */
export declare class PocketFlowBaseNode<S = unknown, P extends NonIterableObject = NonIterableObject> extends Node<S, any, any> {
  constructor(options?: NodeOptions);
  /** The params the graph (or `setParams`) gave this node, typed `P`. Frozen: read them, do not assign. */
  _params: P;
  get _successors(): Map<PocketFlowAction, PocketFlowBaseNode>;
  _exec(prepRes: unknown): Promise<unknown>;
  prep(shared: S): Promise<unknown>;
  exec(prepRes: unknown): Promise<unknown>;
  post(shared: S, prepRes: unknown, execRes: unknown): Promise<PocketFlowAction | undefined>;
  _run(shared: S): Promise<PocketFlowAction | undefined>;
  run(shared: S, options?: RunOptions): Promise<PocketFlowAction | undefined>;
  setParams(params: P): this;
  getNextNode(action?: PocketFlowAction): PocketFlowBaseNode | undefined;
  clone(): this;
}

/** Type of `Node` from `kaygraph/pocketflow`: PocketFlow-TS's `Node<S, P>` (retries, `execFallback`). */
export declare class PocketFlowNode<S = unknown, P extends NonIterableObject = NonIterableObject> extends PocketFlowBaseNode<S, P> {
  constructor(maxRetries?: number, wait?: number);
  constructor(options?: NodeOptions);
  execFallback(prepRes: unknown, error: Error): Promise<unknown>;
  _exec(prepRes: unknown): Promise<unknown>;
}

/** Type of `BatchNode` from `kaygraph/pocketflow`: `exec` runs once per item that `prep` returns. */
export declare class PocketFlowBatchNode<S = unknown, P extends NonIterableObject = NonIterableObject> extends PocketFlowNode<S, P> {
  _exec(items: unknown[]): Promise<unknown[]>;
}

/** Type of `ParallelBatchNode` from `kaygraph/pocketflow`: items run concurrently (`concurrency` bounds them). */
export declare class PocketFlowParallelBatchNode<S = unknown, P extends NonIterableObject = NonIterableObject> extends PocketFlowNode<S, P> {
  constructor(maxRetries?: number, wait?: number);
  constructor(options?: ParallelBatchNodeOptions);
  /** Max items in flight; undefined = unbounded. */
  concurrency: number | undefined;
  _exec(items: unknown[]): Promise<unknown[]>;
}

/**
 * Type of `Flow` from `kaygraph/pocketflow`: PocketFlow-TS's `Flow<S, P>` on kaygraph's `Graph`. The start
 * node is `startNode`; `start(node)` is kaygraph's method that sets it (PocketFlow-TS's `start` field).
 */
export declare class PocketFlowFlow<S = unknown, P extends NonIterableObject = NonIterableObject> extends PocketFlowBaseNode<S, P> {
  constructor(start?: Node, options?: GraphOptions);
  /** The first node of each run. */
  startNode: Node | undefined;
  /** Sets the start node and returns it, so `flow.start(a).next(b)` wires a chain. */
  start<T extends Node>(node: T): T;
}

/** Type of `BatchFlow` from `kaygraph/pocketflow`: `prep` returns one params object per run of the sub-flow. */
export declare class PocketFlowBatchFlow<
  S = unknown,
  P extends NonIterableObject = NonIterableObject,
  NP extends NonIterableObject[] = NonIterableObject[],
> extends PocketFlowFlow<S, P> {
  prep(shared: S): Promise<NP>;
}

/** Type of `ParallelBatchFlow` from `kaygraph/pocketflow`: the sub-flow runs for all params objects concurrently. */
export declare class PocketFlowParallelBatchFlow<
  S = unknown,
  P extends NonIterableObject = NonIterableObject,
  NP extends NonIterableObject[] = NonIterableObject[],
> extends PocketFlowBatchFlow<S, P, NP> {
  constructor(start?: Node, options?: ParallelBatchGraphOptions);
  /** Max sub-flow runs in flight; undefined = unbounded. */
  concurrency: number | undefined;
}
