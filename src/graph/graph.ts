import { nodeKeys } from "./checkpoint.js";
import { GraphInterrupt } from "./interrupt.js";
import { Node, cloneNode, runStep, type Action, type MaybePromise, type Params } from "./node.js";
import type { RunContext } from "./run-context.js";

/** Options of a {@link Graph}. */
export interface GraphOptions {
  /** Name used in events and warnings. Default: the class name. */
  nodeId?: string;
}

/**
 * Orchestrates nodes: starts at `startNode`, runs each node (a fresh copy per step), follows the edge named
 * by the action its `post` returns, and stops when there is none. `run()` resolves to the last action.
 * A graph is itself a node: it nests inside other graphs and is wired with `next`/`on`. Hooks
 * (`beforePrep`, `afterExec`, `onError`, `setupResources`, `cleanupResources`) run around the whole
 * orchestration, which plays the role of `exec`.
 *
 * @example
 * const graph = new Graph();
 * graph.start(new Load()).next(new Decide()).on("retry", new Load()).on("done", new Save());
 * const lastAction = await graph.run(shared);
 */
export class Graph<S = any> extends Node<S, any, any> {
  /** The first node of each run. */
  startNode: Node | undefined;

  constructor(start?: Node, options: GraphOptions = {}) {
    super({ nodeId: options.nodeId });
    this.startNode = start;
  }

  /** Sets the start node and returns **it**, so `graph.start(a).next(b)` wires a chain. */
  start<T extends Node>(node: T): T {
    this.startNode = node;
    return node;
  }

  /** By default a graph's action is the last action of its orchestration. */
  override post(_shared: S, _prepRes: any, execRes: any): MaybePromise<Action> {
    return execRes as Action;
  }

  override get _isGraph(): boolean {
    return true;
  }

  override get _stepwise(): boolean {
    return true;
  }

  override _execute(shared: S, _prepRes: unknown): Promise<any> {
    const ctx = this._ctx;
    return ctx !== undefined && ctx.top === this ? this._orchTop(shared, this._params, ctx) : this._orch(shared, this._params);
  }

  /** @internal Runs from the start node until no edge matches; resolves to the last action. */
  async _orch(shared: S, params: Readonly<Params>): Promise<Action> {
    const ctx = this._ctx;
    if (ctx === undefined) throw new Error("Graph orchestration needs a run; call graph.run()");
    let current = this.startNode === undefined ? undefined : cloneNode(this.startNode);
    let last: Action;
    let startAt = -1;
    while (current !== undefined) {
      current._params = params;
      current._ctx = ctx;
      last = await runStep(current, shared, ctx, startAt);
      // The next step starts where this one's node_end was stamped (see RunContext.lastClock).
      startAt = ctx.lastClock;
      current = nextNode(current, last);
    }
    return last;
  }

  /**
   * @internal The top-level orchestration: like {@link _orch}, and it starts at the run's checkpoint (`from`),
   * takes checkpoints between nodes when asked, scopes resume values to one node, and tells an interrupt
   * where it stopped. Nested graphs run inside one of its steps, so they re-run from their start.
   */
  async _orchTop(shared: S, params: Readonly<Params>, ctx: RunContext): Promise<Action> {
    // Keys are needed only to name a checkpoint's node: computed on first use.
    let keys: Map<Node, string> | undefined;
    const keyOf = (node: Node): string => (keys ??= nodeKeys(this.startNode)).get(node) as string;
    let original = this.startNode;
    const from = ctx.from;
    ctx.from = undefined;
    if (from !== undefined && from.next_node !== null) original = findNode((keys ??= nodeKeys(this.startNode)), from.next_node, this.nodeId);
    if (original !== undefined && ctx.checkpointing && from === undefined) await ctx.saveCheckpoint(keyOf(original), shared, params);
    let last: Action;
    let startAt = -1;
    let first = true;
    while (original !== undefined) {
      if (!first) ctx.nextTopStep();
      first = false;
      const current = cloneNode(original);
      current._params = params;
      current._ctx = ctx;
      const step = ctx.steps;
      try {
        last = await runStep(current, shared, ctx, startAt);
      } catch (error) {
        if (error instanceof GraphInterrupt) ctx.locate(error, keyOf(original), step, shared, params);
        throw error;
      }
      startAt = ctx.lastClock;
      original = nextTarget(current, last);
      if (original !== undefined && ctx.checkpointing) {
        await ctx.saveCheckpoint(keyOf(original), shared, params);
        // The wait for the checkpoint is not the next node's time: its node_start reads the clock again.
        startAt = -1;
      }
    }
    return last;
  }
}

function findNode(keys: Map<Node, string>, key: string, graph: string): Node {
  for (const [node, k] of keys) if (k === key) return node;
  const known = [...keys.values()].map((k) => `"${k}"`).join(", ");
  throw new Error(`The checkpoint names node "${key}", which graph ${graph} does not have (its nodes: ${known}); was the graph changed since the checkpoint was taken?`);
}

/** The copy of the node that follows `node` after `action`, or undefined at the end of the graph. */
function nextNode(node: Node, action: Action): Node | undefined {
  const target = nextTarget(node, action);
  return target === undefined ? undefined : cloneNode(target);
}

/**
 * The node (not a copy) that follows `node` after `action`, or undefined at the end of the graph.
 * A node with successors but none for the action ends the graph with a `KG_GRAPH_ENDS` warning;
 * a node without successors, or an edge bound to `END`, ends it silently.
 */
function nextTarget(node: Node, action: Action): Node | undefined {
  const successors = node._succ;
  if (successors.size === 0) return undefined;
  const key = action ? String(action) : "default";
  const target = successors.get(key);
  if (target === undefined) {
    const known = [...successors.keys()].map((k) => `'${k}'`).join(", ");
    process.emitWarning(`Graph ends: action '${key}' of node ${node.nodeId} not found in [${known}]`, { code: "KG_GRAPH_ENDS" });
    return undefined;
  }
  return target === null ? undefined : target;
}
