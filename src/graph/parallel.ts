import { BatchGraph, BatchNode, checkConcurrency, mapConcurrent, toItems } from "./batch.js";
import type { GraphOptions } from "./graph.js";
import { cloneNode, isThenable, type Node, type NodeOptions, type Params } from "./node.js";

/** Options of a {@link ParallelBatchNode}. */
export interface ParallelBatchNodeOptions extends NodeOptions {
  /** At most this many items in flight; unbounded when left out. */
  concurrency?: number;
}

/**
 * Like {@link BatchNode}, but items run concurrently, each with its own retry budget; an item's retries
 * run on a copy of the node of its own, so `this.curRetry` inside `exec` is always that item's attempt.
 * Results keep input order; the first failure rejects the batch and no further item starts. After an
 * abort no further item starts, and the batch rejects with `AbortError` once the items in flight settle.
 * After the batch, `curRetry` is the highest attempt index any item reached.
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

  override async _exec(items: unknown): Promise<unknown[]> {
    // First attempts share this step's copy, whose curRetry stays 0; an item that fails moves to a copy of
    // its own for its retries and fallback, so concurrent items never see each other's attempt counter.
    // (A copy per item up front would cost every item an allocation; only retrying items pay for one.)
    this.curRetry = 0;
    const retrying: Node[] = [];
    const retryOnCopy = (item: unknown, error: unknown): Promise<unknown> => {
      const copy = cloneNode(this);
      retrying.push(copy);
      return copy._retryAfter(item, error, 1);
    };
    const runItem = (item: unknown): unknown => {
      let value: unknown;
      try {
        value = this.exec(item);
      } catch (error) {
        return retryOnCopy(item, error);
      }
      return isThenable(value) ? value.then(undefined, (error: unknown) => retryOnCopy(item, error)) : value;
    };
    try {
      return await mapConcurrent(toItems(items, this.nodeId), this.concurrency, runItem, this.signal);
    } finally {
      let highest = 0;
      for (const copy of retrying) if (copy.curRetry > highest) highest = copy.curRetry;
      this.curRetry = highest;
    }
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
 * After an abort no further run starts (or takes another step), and the batch rejects with `AbortError`.
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
      this.signal,
    );
    return undefined;
  }
}
