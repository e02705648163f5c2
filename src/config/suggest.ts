/**
 * "Did you mean …?" for settings: the known keys at a place in the config schema, and the one closest to
 * a key the user misspelled.
 */

/** The parts of a zod 4 schema's definition this module walks. */
interface SchemaDef {
  innerType?: SchemaLike;
  shape?: Record<string, SchemaLike>;
}
interface SchemaLike {
  _zod: { def: SchemaDef };
}

/**
 * The keys an object schema accepts at `path` (e.g. `["server"]` → `host`, `port`, …), looking through
 * defaults, prefaults and optionals; empty when `path` does not lead to an object.
 *
 * @example
 * knownKeys(configSchema, []); // ["graphs", "server", "workers", …]
 */
export function knownKeys(schema: unknown, path: readonly PropertyKey[]): string[] {
  let node = unwrap(schema as SchemaLike);
  for (const part of path) {
    const child = node?._zod.def.shape?.[String(part)];
    node = child === undefined ? undefined : unwrap(child);
  }
  return Object.keys(node?._zod.def.shape ?? {});
}

function unwrap(schema: SchemaLike | undefined): SchemaLike | undefined {
  let node = schema;
  while (node?._zod.def.innerType !== undefined) node = node._zod.def.innerType;
  return node;
}

/**
 * The candidate closest to `name` when it is a plausible typo (same letters in another case, or at most
 * a third of the letters wrong); undefined otherwise.
 *
 * @example
 * closest("sever", ["server", "workers"]); // "server"
 */
export function closest(name: string, candidates: readonly string[]): string | undefined {
  const wanted = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(wanted.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(wanted, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Levenshtein distance, with a swap of two neighbouring letters counted as one edit. */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) (rows[0] as number[])[j] = j;
  for (let i = 1; i <= a.length; i++) {
    const row = rows[i] as number[];
    const above = rows[i - 1] as number[];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min((above[j] as number) + 1, (row[j - 1] as number) + 1, (above[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        row[j] = Math.min(row[j] as number, ((rows[i - 2] as number[])[j - 2] as number) + 1);
      }
    }
  }
  return (rows[a.length] as number[])[b.length] as number;
}
