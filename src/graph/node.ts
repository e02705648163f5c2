import { GraphInterrupt } from "./interrupt.js";
import { AbortError } from "./run-errors.js";
import { NEVER_ABORTED, RunContext, abortableSleep, type RunOptions } from "./run-context.js";

/** Params: immutable identifiers a graph hands to its nodes (mainly for batches). */
export type Params = Record<string, unknown>;

/** What `post` returns: the action naming the next edge; nothing means `"default"`. */
export type Action = string | null | undefined | void;

/** Value or promise of it: every lifecycle method may be sync or async. */
export type MaybePromise<T> = T | Promise<T>;

/** Options of a {@link Node}. */
export interface NodeOptions {
  /** Total attempts of `exec` (not extra ones). Default 1; below 1 is a RangeError. */
  maxRetries?: number;
  /** Seconds to wait between attempts. Default 0. */
  wait?: number;
  /** Name used in events, warnings and logs. Default: the class name. */
  nodeId?: string;
}

/** Marks an edge that ends the graph on purpose, without the "graph ends" warning. */
export const END = null;

const EMPTY_PARAMS: Readonly<Params> = Object.freeze({});
const NO_CONTEXT: Readonly<Record<string, unknown>> = Object.freeze({});

/** @internal True for promises and other thenables: the engine awaits only what needs it. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === "object" && typeof (value as { then?: unknown }).then === "function";
}

/**
 * A step of a graph: `prep(shared) → exec(prepRes) → post(shared, prepRes, execRes)`, each optionally async.
 * `post` returns the action that picks the next node. Nodes are wired with `next` / `on`.
 *
 * Each step of a run works on a fresh shallow copy of the node, so instance fields you reassign during a run
 * do not leak into other steps or runs (objects you mutate are shared on purpose). Use ordinary fields, not
 * `#private` ones: a copy cannot carry those.
 *
 * @example
 * class Greet extends Node<{ name: string; greeting?: string }> {
 *   prep(shared) { return shared.name }
 *   exec(name: string) { return `Hello, ${name}` }
 *   post(shared, _prep, greeting: string) { shared.greeting = greeting }
 * }
 * await new Greet().run({ name: "Ada" });
 */
export class Node<S = any, P = any, E = any> {
  /** Total attempts of `exec`. */
  maxRetries: number;
  /** Seconds between attempts. */
  wait: number;
  /** 0-based index of the current (or last) attempt. */
  curRetry = 0;
  /** Name used in events and warnings. */
  nodeId: string;
  /** @internal Outgoing edges; read through `successors`, which copies them on a step copy's first access. */
  _succ: Map<string, Node | null> = new Map();
  /** @internal The node that owns `_succ`: a step copy shares its original's map until it touches it. */
  _succOwner: Node = this;
  /** @internal Frozen params; read through `params`. */
  _params: Readonly<Params> = EMPTY_PARAMS;
  /** @internal The run this copy belongs to. */
  _ctx: RunContext | undefined;

  constructor(options?: NodeOptions | number, wait?: number) {
    const opts: NodeOptions = typeof options === "number" ? { maxRetries: options, wait } : { ...options };
    const maxRetries = opts.maxRetries ?? 1;
    if (!Number.isInteger(maxRetries) || maxRetries < 1) {
      throw new RangeError(`maxRetries is the total number of attempts and must be a whole number >= 1, got ${String(maxRetries)}`);
    }
    const waitSeconds = opts.wait ?? 0;
    if (!Number.isFinite(waitSeconds) || waitSeconds < 0) {
      throw new RangeError(`wait is in seconds and must be a finite number >= 0, got ${String(waitSeconds)}`);
    }
    this.maxRetries = maxRetries;
    this.wait = waitSeconds;
    this.nodeId = opts.nodeId ?? this.constructor.name;
  }

  // #region params and wiring

  /** Outgoing edges: action → node (`null` = an explicit end). Each step's copy has its own map. */
  get successors(): Map<string, Node | null> {
    if (this._succOwner !== this) {
      // Copy on first access: the engine reads edges through `_succ` and never pays for the copy.
      this._succ = new Map(this._succ);
      this._succOwner = this;
    }
    return this._succ;
  }

  set successors(map: Map<string, Node | null>) {
    this._succ = map;
    this._succOwner = this;
  }

  /** A read-only view of this node's params. */
  get params(): Readonly<Params> {
    return this._params;
  }

  /** Replaces the params with a copy of `params`. Returns this node. */
  setParams(params: Params): this {
    if (params === null || typeof params !== "object" || Array.isArray(params)) {
      throw new TypeError("setParams expects a plain object");
    }
    this._params = Object.freeze({ ...params });
    return this;
  }

  /** Alias of `curRetry` (PocketFlow-TS name). */
  get currentRetry(): number {
    return this.curRetry;
  }

  /**
   * Adds the edge `action → node` and returns the **target**, so `a.next(b).next(c)` chains.
   * Pass `END` (null) as the node to end the graph on that action without a warning.
   */
  next<T extends Node | null>(node: T, action = "default"): T {
    if (typeof action !== "string") throw new TypeError("Action must be a string");
    if (this.successors.has(action)) {
      process.emitWarning(`Node ${this.nodeId}: overwriting successor for action '${action}'`, { code: "KG_SUCCESSOR_OVERWRITE" });
    }
    this.successors.set(action, node);
    return node;
  }

  /** Adds the edge `action → node` and returns **this** (the source), so branches hang off one node. */
  on(action: string, node: Node | null): this {
    this.next(node, action);
    return this;
  }

  /** PocketFlow-TS name of {@link successors}. */
  get _successors(): Map<string, Node | null> {
    return this.successors;
  }

  /**
   * The node that follows after `action` (PocketFlow-TS `getNextNode`): undefined when there is no edge for it
   * (with the `KG_GRAPH_ENDS` warning if the node has other edges) or when the edge is `END`.
   */
  getNextNode(action = "default"): Node | undefined {
    const key = action || "default";
    const target = this._succ.get(key);
    if (target === undefined && this._succ.size > 0) {
      const known = [...this._succ.keys()].map((k) => `'${k}'`).join(", ");
      process.emitWarning(`Graph ends: action '${key}' of node ${this.nodeId} not found in [${known}]`, { code: "KG_GRAPH_ENDS" });
    }
    return target ?? undefined;
  }

  /** A shallow copy of this node with its own successors map (PocketFlow-TS `clone`); params are frozen, so shared. */
  clone(): this {
    const copy = cloneNode(this);
    copy.successors = new Map(this._succ);
    return copy;
  }

  // #endregion

  // #region lifecycle (override these)

  /** Reads what `exec` needs from the shared store. */
  prep(_shared: S): MaybePromise<P> {
    return undefined as P;
  }

  /** The work: must not touch the shared store; retried up to `maxRetries` attempts. */
  exec(_prepRes: P): MaybePromise<E> {
    return undefined as E;
  }

  /** Writes results to the shared store and returns the action. */
  post(_shared: S, _prepRes: P, _execRes: E): MaybePromise<Action> {
    return undefined;
  }

  /** Called with the last error when every attempt failed; its return value becomes `execRes`. Re-throws by default. */
  execFallback(_prepRes: P, error: unknown): MaybePromise<E> {
    throw error;
  }

  /** Hook: before `prep`. */
  beforePrep(_shared: S): MaybePromise<unknown> {
    return undefined;
  }

  /** Hook: after `exec` (and after a fallback), before `post`. */
  afterExec(_shared: S, _prepRes: P, _execRes: E): MaybePromise<unknown> {
    return undefined;
  }

  /** Hook: an error escaped the step. Return truthy to suppress it; the graph then follows `"default"`. */
  onError(_shared: S, _error: unknown): MaybePromise<unknown> {
    return undefined;
  }

  /** Called before each step of this node. */
  setupResources(): MaybePromise<unknown> {
    return undefined;
  }

  /** Called after each step of this node, whatever happened. */
  cleanupResources(): MaybePromise<unknown> {
    return undefined;
  }

  // #endregion

  // #region in-run helpers

  /** Sends a `data` event with `chunk` to whoever watches the run. No-op outside a run. */
  emit(chunk: unknown): void {
    const ctx = this._ctx;
    if (ctx !== undefined && ctx.observed) ctx.data(this.nodeId, chunk);
  }

  /**
   * Stops the run to ask for a value (human in the loop): the first time, the run ends with a
   * {@link GraphInterrupt} carrying `value` (a served run is stored as an interrupted task). When the run is
   * resumed, this node runs again from `prep` and this call returns the resume value instead. Several calls in
   * one node are matched to resume values by order. `exec` retries and `onError` never see the interrupt.
   *
   * @example
   * class Approve extends Node {
   *   post(shared) {
   *     const answer = this.interrupt<{ approved: boolean }>({ question: "Publish this draft?", draft: shared.draft });
   *     return answer.approved ? "publish" : "revise";
   *   }
   * }
   */
  interrupt<T = unknown>(value: unknown): T {
    const ctx = this._ctx;
    if (ctx === undefined) throw new Error(`Node ${this.nodeId}: interrupt() works only while the node runs (in prep, exec or post).`);
    return ctx.interrupt(this.nodeId, value) as T;
  }

  /** The run's AbortSignal; one that never fires when the caller gave none. */
  get signal(): AbortSignal {
    return this._ctx?.signal ?? NEVER_ABORTED;
  }

  /** The run's `context` option (for a served graph: `user`, `requestId`, `taskId`…); empty outside a run. */
  get context(): Readonly<Record<string, unknown>> {
    return this._ctx?.context ?? NO_CONTEXT;
  }

  // #endregion

  /**
   * Runs this node (or graph) on `shared`. Resolves to the action of its `post` — for a graph, the last action.
   * A node with successors only runs itself (with a warning): use a Graph to follow edges.
   */
  async run(shared: S, options: RunOptions = {}): Promise<Action> {
    if (this._succ.size > 0) {
      process.emitWarning(`Node ${this.nodeId} has ${this._succ.size} successor(s) but run() does not follow them; run it inside a Graph.`, { code: "KG_NODE_SUCCESSORS" });
    }
    const ctx = new RunContext(options);
    ctx.start();
    try {
      const action = await runInContext(this, shared, ctx);
      ctx.finish(action);
      return action;
    } catch (error) {
      ctx.fail(error);
      throw error;
    }
  }

  /** Alias of `run` (KayGraph / PocketFlow name). */
  runAsync(shared: S, options?: RunOptions): Promise<Action> {
    return this.run(shared, options);
  }

  // #region engine internals

  /** @internal True for graphs: their top-level run is their orchestration, not a step. */
  get _isGraph(): boolean {
    return false;
  }

  /** @internal True when, run at the top, this node checkpoints between its own nodes (plain graphs). */
  get _stepwise(): boolean {
    return false;
  }

  /**
   * @internal One step of this node: setup, hooks, prep, exec (with retries), post, cleanup. With
   * `nodeEvents`, emits `node_start`/`node_end` around it (`startAt`: a clock reading to start from).
   * Graphs reuse it with orchestration as their exec.
   */
  async _run(shared: S, nodeEvents = false, startAt = -1): Promise<Action> {
    // One async frame per step, and no await for hooks that return plain values: this is the hot path.
    const ctx = this._ctx;
    const started = nodeEvents && ctx !== undefined && ctx.observed ? ctx.nodeStart(this.nodeId, startAt) : -1;
    let r: unknown = this.setupResources();
    if (isThenable(r)) await r;
    let action: Action;
    try {
      try {
        r = this.beforePrep(shared);
        if (isThenable(r)) await r;
        let prepRes = this.prep(shared);
        if (isThenable(prepRes)) prepRes = await prepRes;
        let execRes = this._execute(shared, prepRes as P);
        if (isThenable(execRes)) execRes = await execRes;
        r = this.afterExec(shared, prepRes as P, execRes as E);
        if (isThenable(r)) await r;
        action = this.post(shared, prepRes as P, execRes as E) as Action;
        if (isThenable(action)) action = (await action) as Action;
      } catch (error) {
        // An interrupt is not a failure: no onError, no failed node.
        if (error instanceof GraphInterrupt) throw error;
        if (ctx !== undefined && ctx.failedNode === undefined) ctx.failedNode = this.nodeId;
        let suppressed = this.onError(shared, error);
        if (isThenable(suppressed)) suppressed = await suppressed;
        if (!suppressed) throw error;
        if (ctx !== undefined) ctx.failedNode = undefined;
        action = undefined;
      }
    } finally {
      r = this.cleanupResources();
      if (isThenable(r)) await r;
    }
    if (started >= 0) ctx!.nodeEnd(this.nodeId, action ? String(action) : "default", started, this.curRetry);
    return action;
  }

  /** @internal The exec phase: the retry loop for nodes; graphs orchestrate here. */
  _execute(_shared: S, prepRes: P): MaybePromise<E> {
    return this._exec(prepRes);
  }

  /** @internal Retry loop on `exec`; batch nodes run it once per item. */
  _exec(prepRes: P): MaybePromise<E> {
    return this._retry(prepRes);
  }

  /**
   * @internal `maxRetries` attempts, `wait` seconds apart, then `execFallback`. A first attempt that
   * succeeds synchronously returns its value without allocating a promise.
   */
  _retry(input: P): MaybePromise<E> {
    this.curRetry = 0;
    let value: MaybePromise<E>;
    try {
      value = this.exec(input);
    } catch (error) {
      return this._retryAfter(input, error, 1);
    }
    if (!isThenable(value)) return value;
    return value.then(undefined, (error: unknown) => this._retryAfter(input, error, 1));
  }

  /** @internal The attempts after a failed one (`nextAttempt` is the 0-based index of the next), then the fallback. */
  async _retryAfter(input: P, firstError: unknown, nextAttempt: number): Promise<E> {
    const signal = this.signal;
    let error = firstError;
    for (let attempt = nextAttempt; ; attempt++) {
      // An interrupt is a question, not a failure: never retried, never handed to the fallback.
      if (error instanceof GraphInterrupt) throw error;
      if (signal.aborted) throw AbortError.is(error) ? error : new AbortError(signal.reason);
      if (attempt >= this.maxRetries) {
        const fallback = this.execFallback(input, error);
        return isThenable(fallback) ? await fallback : fallback;
      }
      if (this.wait > 0) await abortableSleep(this.wait * 1000, signal);
      this.curRetry = attempt;
      try {
        const value = this.exec(input);
        return isThenable(value) ? await value : value;
      } catch (e) {
        error = e;
      }
    }
  }

  // #endregion
}

/** Shallow copy of a node for one step: own params and successors map, same prototype and fields. */
export function cloneNode<T extends Node>(node: T): T {
  // The copy shares the edges map until it touches `successors` (see the getter): cheap per-step copies.
  return Object.assign(Object.create(Object.getPrototypeOf(node) as object) as T, node);
}

/**
 * Runs one step of `node` inside an orchestration: counts it, checks abort and `maxSteps`, emits
 * `node_start`/`node_end`. `node` must already be this step's copy; `startAt` as in {@link Node._run}.
 */
export function runStep(node: Node, shared: unknown, ctx: RunContext, startAt = -1): Promise<Action> {
  ctx.beginStep(node.nodeId);
  return node._run(shared, true, startAt);
}

/**
 * Runs `node` as the top of a run in an existing context, without `start`/terminal events — the definition
 * runner uses this to emit its own terminal event after validating the output.
 */
export async function runInContext(node: Node, shared: unknown, ctx: RunContext): Promise<Action> {
  ctx.throwIfAborted();
  const copy = cloneNode(node);
  copy._ctx = ctx;
  ctx.top = copy;
  const from = ctx.from;
  if (from !== undefined) copy._params = Object.freeze({ ...from.params });
  try {
    if (copy._stepwise) return await copy._run(shared);
    // A single node (or a batch graph) is one top-level step: its checkpoint is "from the start" (null).
    if (from !== undefined && from.next_node !== null) throw new Error(`The checkpoint names node "${from.next_node}", but ${copy.nodeId} is not a graph; resume it from a checkpoint with next_node null.`);
    ctx.from = undefined;
    const step = ctx.steps;
    if (ctx.checkpointing) await ctx.saveCheckpoint(null, shared, copy._params);
    try {
      return copy._isGraph ? await copy._run(shared) : await runStep(copy, shared, ctx);
    } catch (error) {
      if (error instanceof GraphInterrupt) ctx.locate(error, null, step, shared, copy._params);
      throw error;
    }
  } finally {
    node.curRetry = copy.curRetry;
  }
}
