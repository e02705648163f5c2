/** The one guarded `JSON.stringify` of run output: streamed events, sync bodies, task results, CLI output. */

/**
 * The JSON text of `value`, or why there is none. Never throws (a BigInt, a cycle, a `toJSON` that throws,
 * a stack overflow of a deep value). `undefined`, a function or a symbol have no JSON form: an error too.
 * `space` indents as JSON.stringify's third argument does.
 *
 * @example
 * jsonText({ n: 1n }); // { ok: false, error: TypeError("Do not know how to serialize a BigInt") }
 */
export function jsonText(value: unknown, space?: number): { ok: true; text: string } | { ok: false; error: unknown } {
  try {
    // Every streamed event comes through here: the one-argument call, unless indenting was asked.
    const text = space === undefined ? JSON.stringify(value) : JSON.stringify(value, null, space);
    // Only `undefined`, a function or a symbol serialise to nothing; events and bodies are objects.
    return text === undefined ? { ok: false, error: new TypeError(`${typeof value} has no JSON form`) } : { ok: true, text };
  } catch (error) {
    return { ok: false, error };
  }
}
