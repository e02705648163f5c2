/**
 * A small glob matcher for the `graphs` setting (Node 20 has no fs.glob): `*` (within a segment), `**`
 * (any number of segments), `?`, `{a,b}` alternatives. Paths use `/`.
 */

/** True when `pattern` has glob syntax. */
export function isGlob(pattern: string): boolean {
  return /[*?{]/.test(pattern);
}

/** Compiles a glob to a RegExp matching whole `/`-separated relative paths. */
export function globToRegExp(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === "*") {
      if (pattern[i + 1] === "*") {
        // `**/` matches zero or more directories; a trailing `**` matches everything below.
        const slash = pattern[i + 2] === "/";
        re += slash ? "(?:[^/]+/)*" : ".*";
        i += slash ? 2 : 1;
      } else {
        re += "[^/]*";
      }
    } else if (c === "?") {
      re += "[^/]";
    } else if (c === "{") {
      const end = pattern.indexOf("}", i);
      if (end < 0) {
        re += "\\{";
        continue;
      }
      const options = pattern.slice(i + 1, end).split(",").map((part) => globToRegExp(part).source.slice(1, -1));
      re += `(?:${options.join("|")})`;
      i = end;
    } else {
      re += c.replace(/[.+^$()|[\]\\]/g, "\\$&");
    }
  }
  return new RegExp(`^${re}$`);
}

/** The directory part of a glob before its first wildcard segment (where to start walking). */
export function globBase(pattern: string): string {
  const parts = pattern.split("/");
  const base: string[] = [];
  for (const part of parts) {
    if (isGlob(part)) break;
    base.push(part);
  }
  return base.join("/");
}
