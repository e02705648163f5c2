import { BatchGraph, BatchNode, checkConcurrency, mapConcurrent, toItems } from "./batch.js";
import type { GraphOptions } from "./graph.js";
import type { Node, NodeOptions, Params } from "./node.js";

/** Options of a {@link ParallelBatchNode}. */
export interface ParallelBatchNodeOptions extends NodeOptions {
  /** At most this many items in flight; unbounded when left out. */
  concurrency?: number;
}

/**
 * Like {@link BatchNode}, but items run concurrently (each with its own retry budget). Results keep input
 * order; the first failure rejects the batch and no further item starts.
 *
 * @example
 * class Fetch extends ParallelBatchNode { prep(s) { return s.urls } async exec(url: string) { return (await fetch(url)).status } }
 * new Fetch({ concurrency: 4, maxRetries: 3, wait: 0.5 });
 */
export class ParallelBatchNode<S = any> extends BatchNode<S> {
  /** Max items in flight; undefined = unbounded. */
  concurrency: number | undefined;

  constructor(options: ParallelBatchNodeOptions | number = {}, wait?: number) {
    super(options, wait);
    this.concurrency = checkConcurrency(typeof options === "number" ? undefined : options.concurrency);
  }

  override _exec(items: unknown): Promise<unknown[]> {
    return mapConcurrent(toItems(items, this.nodeId), this.concurrency, (item) => this._retry(item));
  }
}

/** Options of a {@link ParallelBatchGraph}. */
export interface ParallelBatchGraphOptions extends GraphOptions {
  /** At most this many sub-graph runs in flight; unbounded when left out. */
  concurrency?: number;
}

/**
 * Like {@link BatchGraph}, but the sub-graph runs for all param objects concurrently. Each run copies its
 * nodes, so params are isolated; the shared store is common to all, so key your writes by the params.
 *
 * @example
 * const perFile = new ParallelBatchGraph(new Summarise(), { concurrency: 8 });
 */
export class ParallelBatchGraph<S = any> extends BatchGraph<S> {
  /** Max sub-graph runs in flight; undefined = unbounded. */
  concurrency: number | undefined;

  constructor(start?: Node, options: ParallelBatchGraphOptions = {}) {
    super(start, options);
    this.concurrency = checkConcurrency(options.concurrency);
  }

  override async _execute(shared: S, prepRes: unknown): Promise<undefined> {
    const base = this._params;
    await mapConcurrent(toItems(prepRes, this.nodeId), this.concurrency, (item) =>
      this._orch(shared, Object.freeze({ ...base, ...(item as Params) })),
    );
    return undefined;
  }
}
