import { Graph, type GraphOptions } from "./graph.js";
import { Node, type Params } from "./node.js";
import { throwIfAborted } from "./run-context.js";

/** Normalises what a batch `prep` returned: nothing → [], iterable → array. */
export function toItems(value: unknown, owner: string): unknown[] {
  if (value === null || value === undefined) return [];
  if (Array.isArray(value)) return value;
  if (typeof (value as Iterable<unknown>)[Symbol.iterator] === "function" && typeof value !== "string") {
    return Array.from(value as Iterable<unknown>);
  }
  throw new TypeError(`${owner}: prep must return an array or iterable of items, got ${typeof value}`);
}

/**
 * Runs `fn` over `items` with at most `limit` in flight (all at once when `limit` is undefined or Infinity).
 * Results keep input order; the first rejection rejects the whole call and no new item starts after it.
 * With a `signal`, no item starts once it has fired, and the call rejects with `AbortError` when the
 * items in flight settle (items that watch the signal can stop sooner).
 */
export async function mapConcurrent<T, R>(items: readonly T[], limit: number | undefined, fn: (item: T, index: number) => R | Promise<R>, signal?: AbortSignal): Promise<R[]> {
  throwIfAborted(signal);
  if (limit === undefined || limit >= items.length) {
    const all = await Promise.all(items.map(fn));
    throwIfAborted(signal);
    return all;
  }
  const results = new Array<R>(items.length);
  let nextIndex = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && nextIndex < items.length) {
      const index = nextIndex++;
      try {
        throwIfAborted(signal);
        results[index] = await fn(items[index] as T, index);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  throwIfAborted(signal);
  return results;
}

/** Validates a `concurrency` option: undefined (unbounded) or a whole number >= 1. */
export function checkConcurrency(value: number | undefined): number | undefined {
  if (value === undefined || value === Number.POSITIVE_INFINITY) return undefined;
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`concurrency must be a whole number >= 1 (or left out for no limit), got ${String(value)}`);
  }
  return value;
}

/**
 * `prep` returns a list of items; `exec` runs once per item, one after another, each item with its own
 * retry budget and fallback; `post` receives the list of results in order. The run's signal is checked
 * between items: once it has fired, no further item starts and the step rejects with `AbortError`.
 *
 * @example
 * class Square extends BatchNode<{ nums: number[]; out?: number[] }> {
 *   prep(shared) { return shared.nums }
 *   exec(n: number) { return n * n }
 *   post(shared, _items, results: number[]) { shared.out = results }
 * }
 */
export class BatchNode<S = any> extends Node<S, any, any> {
  // exec and execFallback receive one item; post receives the array of results.
  override async _exec(items: unknown): Promise<unknown[]> {
    const signal = this.signal;
    const results: unknown[] = [];
    for (const item of toItems(items, this.nodeId)) {
      throwIfAborted(signal);
      results.push(await this._retry(item));
    }
    // An abort during the last item rejects too, as it does for every other item.
    throwIfAborted(signal);
    return results;
  }
}

/** Options of a {@link BatchGraph}. */
export type BatchGraphOptions = GraphOptions;

/**
 * `prep` returns a list of param objects; the sub-graph runs once per object, in order, with params
 * `{ ...graph.params, ...item }` and fresh node copies, on the same shared store. Resolves to what `post`
 * returns (default undefined). An abort stops it between steps, as in any graph, and between items.
 */
export class BatchGraph<S = any> extends Graph<S> {
  // At the top of a run a batch is one step: an interrupt or a crash re-runs the whole batch.
  override get _stepwise(): boolean {
    return false;
  }

  override async _execute(shared: S, prepRes: unknown): Promise<undefined> {
    const signal = this.signal;
    for (const item of toItems(prepRes, this.nodeId)) {
      throwIfAborted(signal);
      await this._orch(shared, Object.freeze({ ...this._params, ...(item as Params) }));
    }
    throwIfAborted(signal);
    return undefined;
  }
}
