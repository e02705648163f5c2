/**
 * Settings layers as flat maps (`server.port` → value) that remember where each value came from, so a
 * bad value can be reported with its source and `kaygraph config` can show the origin of every setting.
 */

/** Where a setting's value came from. */
export type Source =
  | { kind: "default" }
  | { kind: "command"; name: string }
  | { kind: "file"; file: string }
  | { kind: "env"; name: string }
  | { kind: "dotenv"; name: string; file: string }
  | { kind: "flag"; flag: string };

/** A flat layer: dotted path → value and source. */
export type Layer = Map<string, { value: unknown; source: Source }>;

/** Human text for a source: `env PORT`, `flag --port`, `kaygraph.config.ts`… */
export function describeSource(source: Source): string {
  switch (source.kind) {
    case "default":
      return "default";
    case "command":
      return `${source.name} default`;
    case "file":
      return source.file;
    case "env":
      return `env ${source.name}`;
    case "dotenv":
      return `${source.file} ${source.name}`;
    case "flag":
      return `flag ${source.flag}`;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Flattens a nested settings object into a layer. Plain objects are walked; arrays and other values are
 * leaves. Keys under `opaque` paths (a JWK, say) stay whole.
 */
export function flatten(object: Record<string, unknown>, source: Source, opaque: ReadonlySet<string> = new Set(), prefix = "", into: Layer = new Map()): Layer {
  for (const [key, value] of Object.entries(object)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (isPlainObject(value) && !opaque.has(path) && Object.keys(value).length > 0) flatten(value, source, opaque, path, into);
    else into.set(path, { value, source });
  }
  return into;
}

/** Later layers win; returns the merged layer. */
export function mergeLayers(layers: readonly Layer[]): Layer {
  const merged: Layer = new Map();
  for (const layer of layers) {
    for (const [path, entry] of layer) {
      // A whole-object value replaces the leaves under it, and a leaf replaces a whole object above it.
      for (const existing of [...merged.keys()]) {
        if (existing.startsWith(`${path}.`) || path.startsWith(`${existing}.`)) merged.delete(existing);
      }
      merged.set(path, entry);
    }
  }
  return merged;
}

/** Turns a flat layer back into a nested object. */
export function unflatten(layer: Layer): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [path, { value }] of layer) {
    const keys = path.split(".");
    let node = root;
    for (const key of keys.slice(0, -1)) {
      if (!isPlainObject(node[key])) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    node[keys[keys.length - 1] as string] = value;
  }
  return root;
}

/**
 * The source of `path`, or of the nearest parent path that was set as a whole, or else of the first
 * setting under it (an object the user wrote at `path`, such as a misspelt section).
 */
export function sourceOf(layer: Layer, path: string): Source | undefined {
  let current = path;
  for (;;) {
    const entry = layer.get(current);
    if (entry) return entry.source;
    const dot = current.lastIndexOf(".");
    if (dot < 0) break;
    current = current.slice(0, dot);
  }
  for (const [key, entry] of layer) if (key.startsWith(`${path}.`)) return entry.source;
  return undefined;
}

/** Deep-freezes an object graph of plain objects and arrays. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value as object)) deepFreeze(child);
  }
  return value;
}
