/**
 * Checkpoint helpers: the JSON round-trip check of a shared store, JSON copies, and the stable keys that name
 * a graph's nodes in a checkpoint.
 */
import { CheckpointError, type Checkpoint } from "./interrupt.js";
import type { Node } from "./node.js";
import type { Params } from "./node.js";

/**
 * A checkpoint that carries its JSON text ({@link makeCheckpoint}, {@link checkpointFromText}), so a store need
 * not serialise it again. Its own enumerable properties are a checkpoint's, in the same order (spread, JSON and
 * structured clone see a plain checkpoint); `shared` is parsed from the text when first read.
 */
class TextCheckpoint implements Checkpoint {
  declare next_node: string | null;
  declare step: number;
  declare shared: unknown;
  declare params: Params;
  declare resume: unknown[];
  /** The text; undefined once `shared` was replaced (it no longer describes the checkpoint). */
  #text: string | undefined;
  /** What the text was made from: a head field replaced or a resume value appended since makes it stale. */
  readonly #head: { next_node: string | null; step: number; params: Params; resume: unknown[]; resumes: number };
  /**
   * Where the shared store is until it is parsed (or replaced): its own text, or the whole checkpoint's text;
   * then undefined and the value is in `#shared`.
   */
  #sharedFrom: { json: string } | { whole: string } | undefined;
  #shared: unknown;

  constructor(nextNode: string | null, step: number, shared: { json: string } | { whole: string } | { value: unknown }, params: Params, resume: unknown[], text: string | undefined) {
    this.next_node = nextNode;
    this.step = step;
    Object.defineProperty(this, "shared", SHARED);
    this.params = params;
    this.resume = resume;
    this.#text = text;
    this.#head = { next_node: nextNode, step, params, resume, resumes: resume.length };
    if ("value" in shared) this.#shared = shared.value;
    else this.#sharedFrom = shared;
  }

  /** The text, if it still describes `checkpoint`. */
  static textOf(checkpoint: TextCheckpoint): string | undefined {
    const head = checkpoint.#head;
    const same = checkpoint.next_node === head.next_node && checkpoint.step === head.step && checkpoint.params === head.params && checkpoint.resume === head.resume && head.resume.length === head.resumes;
    return same ? checkpoint.#text : undefined;
  }

  static readShared(checkpoint: TextCheckpoint): unknown {
    const from = checkpoint.#sharedFrom;
    if (from !== undefined) {
      checkpoint.#shared = "json" in from ? JSON.parse(from.json) : (JSON.parse(from.whole) as Checkpoint).shared;
      checkpoint.#sharedFrom = undefined;
    }
    return checkpoint.#shared;
  }

  static writeShared(checkpoint: TextCheckpoint, value: unknown): void {
    checkpoint.#text = undefined;
    checkpoint.#sharedFrom = undefined;
    checkpoint.#shared = value;
  }
}

/** `shared` of every {@link TextCheckpoint}: an own, enumerable accessor (one pair for all of them). */
const SHARED: PropertyDescriptor = {
  get(this: TextCheckpoint): unknown {
    return TextCheckpoint.readShared(this);
  },
  // A new store: the text no longer describes the checkpoint.
  set(this: TextCheckpoint, value: unknown): void {
    TextCheckpoint.writeShared(this, value);
  },
  enumerable: true,
  configurable: true,
};

/**
 * A checkpoint whose shared store is given as JSON text (already checked by {@link checkpointJson}):
 * {@link checkpointText} answers its text without serialising the store again, and `shared` is parsed from
 * that text only when someone reads it (a task store writes the text and never looks at the store).
 */
export function makeCheckpoint(nextNode: string | null, step: number, sharedJson: string, params: Params): Checkpoint {
  const paramsJson = JSON.stringify(params) as string | undefined;
  // Same text as JSON.stringify(checkpoint) would give (same key order).
  const text = paramsJson === undefined ? undefined : `{"next_node":${JSON.stringify(nextNode)},"step":${step},"shared":${sharedJson},"params":${paramsJson},"resume":[]}`;
  return new TextCheckpoint(nextNode, step, { json: sharedJson }, params, [], text);
}

/** A checkpoint without its shared store: what crosses from a run thread beside the text. */
export type CheckpointHead = Omit<Checkpoint, "shared">;

/** The head of `checkpoint` (its properties but the shared store, which is not read). */
export function checkpointHead(checkpoint: Checkpoint): CheckpointHead {
  return { next_node: checkpoint.next_node, step: checkpoint.step, params: checkpoint.params, resume: checkpoint.resume };
}

/**
 * The checkpoint of a JSON text made by {@link checkpointText} (one sent from a run thread as text, which is
 * cheaper to pass than the object): {@link checkpointText} answers that same text for it. With its `head`
 * ({@link checkpointHead}, sent along), nothing is parsed until its shared store is read.
 */
export function checkpointFromText(text: string, head?: CheckpointHead): Checkpoint {
  if (head !== undefined) return new TextCheckpoint(head.next_node, head.step, { whole: text }, head.params, head.resume, text);
  const parsed = JSON.parse(text) as Checkpoint;
  return new TextCheckpoint(parsed.next_node, parsed.step, { value: parsed.shared }, parsed.params, parsed.resume, text);
}

/**
 * `checkpoint` as JSON text: the text {@link makeCheckpoint} or {@link checkpointFromText} had, or
 * `JSON.stringify` for any other checkpoint and for one whose `shared` was replaced or that got a resume value
 * since (changes inside the shared store's objects are not seen: replace the store, or copy the checkpoint).
 *
 * @example
 * const json = checkpointText(checkpoint); // what a task store writes
 */
export function checkpointText(checkpoint: Checkpoint): string {
  // A caller may have changed the object since (a resume value appended): then it is serialised afresh.
  return (checkpoint instanceof TextCheckpoint ? TextCheckpoint.textOf(checkpoint) : undefined) ?? JSON.stringify(checkpoint);
}

/**
 * The first value under `value` that does not survive `JSON.parse(JSON.stringify(value))` unchanged, as
 * `[path, problem]`; undefined when it all round-trips. A property whose value is `undefined` is fine (it is
 * simply absent afterwards); `undefined` inside an array is not (it comes back as `null`).
 *
 * @example
 * findNonJson({ a: [1, new Date()] }, "shared"); // ["shared.a[1]", "is a Date"]
 */
export function findNonJson(value: unknown, path: string): [string, string] | undefined {
  return spell(walk(value, new Set(), 0), path);
}

/** `found`'s path spelled out from `path`: only for a value that fails (the walk itself builds no strings). */
function spell(found: Found | undefined, path: string): [string, string] | undefined {
  if (found === undefined) return undefined;
  let at = path;
  for (let i = found.steps.length - 1; i >= 0; i--) at += found.steps[i] as string;
  return [at, found.problem];
}

/**
 * Depth past which a walk without a `seen` set gives up and starts again with one. It runs only on values
 * `JSON.stringify` took, which have no cycle through plain objects and arrays; this bounds the one case left (an
 * object whose own `toJSON` hid a cycle from `JSON.stringify`).
 */
const UNSEEN_DEPTH = 512;
const TOO_DEEP = Symbol("too deep");

/** What {@link walk} found: the problem, and the path's steps from the value up (`.key`, `[0]`), innermost first. */
interface Found {
  problem: string;
  steps: string[];
}

const found = (problem: string): Found => ({ problem, steps: [] });

/** The first problem under `value`; `seen`: the objects on the path (undefined: no cycle can occur, count depth). */
function walk(value: unknown, seen: Set<object> | undefined, depth: number): Found | undefined {
  switch (typeof value) {
    case "string":
    case "boolean":
      return undefined;
    case "number":
      return Number.isFinite(value) ? undefined : found(`is ${String(value)}, which JSON stores as null`);
    case "undefined":
      return found("is undefined inside an array (JSON stores it as null)");
    case "bigint":
      return found("is a BigInt (store it as a string)");
    case "function":
      return found("is a function");
    case "symbol":
      return found("is a symbol");
  }
  if (value === null) return undefined;
  const object = value as object;
  if (seen === undefined) {
    if (depth > UNSEEN_DEPTH) throw TOO_DEEP;
  } else {
    if (seen.has(object)) return found("is a circular reference");
    seen.add(object);
  }
  try {
    if (Array.isArray(object)) {
      for (let i = 0; i < object.length; i++) {
        const inner = walk(object[i], seen, depth + 1);
        if (inner) {
          inner.steps.push(`[${i}]`);
          return inner;
        }
      }
      return undefined;
    }
    const proto = Object.getPrototypeOf(object) as object | null;
    if (proto !== Object.prototype && proto !== null) {
      const kind = (object as { constructor?: { name?: string } }).constructor?.name || "an object with a prototype";
      return found(`is ${/^[A-Z]/.test(kind) ? `a ${kind}` : kind}${kind === "Date" ? " (store date.toISOString() instead)" : " (a class instance or built-in, which JSON turns into a plain object or string)"}`);
    }
    const symbols = Object.getOwnPropertySymbols(object);
    const symbol = symbols.length === 0 ? undefined : symbols.find((key) => Object.prototype.propertyIsEnumerable.call(object, key));
    if (symbol !== undefined) return { problem: "is under a symbol key, which JSON drops (use a string key)", steps: [`[${String(symbol)}]`] };
    for (const key in object) {
      const child = (object as Record<string, unknown>)[key];
      if (child === undefined) continue;
      const inner = walk(child, seen, depth + 1);
      if (inner) {
        inner.steps.push(/^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`);
        return inner;
      }
    }
    return undefined;
  } finally {
    seen?.delete(object);
  }
}

/**
 * `value` as JSON text, after checking it round-trips; throws {@link CheckpointError} naming the first key
 * that does not. `path` names the root in the message (`shared`, `interrupt value`).
 *
 * @example
 * const text = checkpointJson(shared, "shared");
 */
export function checkpointJson(value: unknown, path: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value ?? null) as string | undefined;
  } catch {
    // A cycle, a BigInt, a throwing toJSON: the walk below names the key.
  }
  // A value JSON.stringify took has no cycle (but behind a toJSON): the walk needs no set of seen objects.
  let found: Found | undefined;
  try {
    found = walk(value, text === undefined ? new Set() : undefined, 0);
  } catch (error) {
    if (error !== TOO_DEEP) throw error;
    found = walk(value, new Set(), 0);
  }
  const problem = spell(found, path);
  if (problem) throw new CheckpointError(problem[0], problem[1]);
  return text as string;
}

/**
 * Stable names for the nodes reachable from `start`, in a deterministic walk (depth first, edges in the
 * order they were wired): a node's `nodeId`, or `nodeId#2`, `nodeId#3`… for later nodes sharing an id.
 * A graph built the same way (a definition's factory) gets the same keys in every process.
 *
 * @example
 * nodeKeys(graph.startNode); // Map { loadNode → "Load", draftNode → "Draft", otherDraft → "Draft#2" }
 */
export function nodeKeys(start: Node | undefined): Map<Node, string> {
  const keys = new Map<Node, string>();
  const counts = new Map<string, number>();
  // An explicit stack (not recursion): a long chain of nodes must not overflow the call stack.
  const stack: Node[] = start ? [start] : [];
  while (stack.length > 0) {
    const node = stack.pop() as Node;
    if (keys.has(node)) continue;
    const n = (counts.get(node.nodeId) ?? 0) + 1;
    counts.set(node.nodeId, n);
    keys.set(node, n === 1 ? node.nodeId : `${node.nodeId}#${n}`);
    const next = [...node._succ.values()].filter((s): s is Node => s !== null);
    for (let i = next.length - 1; i >= 0; i--) stack.push(next[i] as Node);
  }
  return keys;
}
