/**
 * The nesting limit of JSON input (`server.maxJsonDepth`), checked on the raw text before it is parsed: a
 * document nested 100,000 deep parses, but then overflows the stack of whatever walks it (validation, cloning,
 * serialising), so it is refused up front.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/**
 * Does the JSON text nest objects and arrays deeper than `limit` levels (`[]` is 1, `[[]]` is 2)? Brackets
 * inside strings do not count. Linear in the input, no allocation, no recursion; malformed JSON is the
 * parser's business (this only answers about depth). Multi-byte UTF-8 never contains these ASCII bytes, so a
 * Buffer is scanned byte by byte.
 *
 * @example
 * exceedsJsonDepth('{"a":[1,[2]]}', 2) // true
 * exceedsJsonDepth('{"a":"[[[["}', 1)  // false
 */
export function exceedsJsonDepth(text: string | Uint8Array, limit: number): boolean {
  // A document shorter than the limit cannot nest deeper than it.
  if (text.length <= limit) return false;
  const at = typeof text === "string" ? (i: number) => text.charCodeAt(i) : (i: number) => text[i]!;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = at(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > limit) return true;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) depth--;
  }
  return false;
}

/**
 * The error of a too-deep document: what callers turn into 400 `INVALID_JSON` (HTTP) or an `INVALID_JSON`
 * message (WebSocket).
 */
export class JsonTooDeepError extends Error {
  readonly limit: number;
  /** body-parser keeps a `type` its verify hook's error carries; the error handler maps it to 400. */
  readonly type = "entity.too.deep";
  constructor(limit: number) {
    super(`The JSON is nested deeper than ${limit} levels (server.maxJsonDepth); flatten the input.`);
    this.name = "JsonTooDeepError";
    this.limit = limit;
  }
}
