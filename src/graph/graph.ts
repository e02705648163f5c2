import { Node, cloneNode, runStep, type Action, type MaybePromise, type Params } from "./node.js";

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

  override _execute(shared: S, _prepRes: unknown): Promise<any> {
    return this._orch(shared, this._params);
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
}

/**
 * The copy of the node that follows `node` after `action`, or undefined at the end of the graph.
 * A node with successors but none for the action ends the graph with a `KG_GRAPH_ENDS` warning;
 * a node without successors, or an edge bound to `END`, ends it silently.
 */
function nextNode(node: Node, action: Action): Node | undefined {
  const successors = node._succ;
  if (successors.size === 0) return undefined;
  const key = action ? String(action) : "default";
  const target = successors.get(key);
  if (target === undefined) {
    const known = [...successors.keys()].map((k) => `'${k}'`).join(", ");
    process.emitWarning(`Graph ends: action '${key}' of node ${node.nodeId} not found in [${known}]`, { code: "KG_GRAPH_ENDS" });
    return undefined;
  }
  return target === null ? undefined : cloneNode(target);
}
