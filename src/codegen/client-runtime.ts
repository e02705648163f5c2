import { readFileSync } from "node:fs";

/** The modules of `kaygraph/client` in dependency order; `types.ts` holds the public names. */
const MODULES = ["types.ts", "errors.ts", "transport.ts", "sse.ts", "streams.ts", "calls.ts"] as const;

/** The client runtime's TypeScript source, shipped in the package next to dist/ (package.json `files`). */
const SOURCE_DIR = new URL("../../src/client/", import.meta.url);

const RELATIVE_IMPORT = /^import [^\n]* from "\.\/[\w-]+\.js";\n/gm;
const EXPORTED = /^export (?=(?:async )?function|class|interface|type |const )/gm;

let cached: string | undefined;

/**
 * The source of `kaygraph/client` as one block for a generated client.ts: the modules of src/client copied
 * in order, their imports of each other removed, and only the public types and the error class left
 * exported (the transport stays private to the generated file, as it has no exports of its own to offer).
 *
 * @example
 * renderClientFile(model) // "…// #region kaygraph/client runtime…export class KaygraphApiError…"
 */
export function clientRuntimeSource(): string {
  cached ??= MODULES.map((name) => moduleSource(name)).join("\n");
  return `// #region kaygraph/client runtime — copied from the kaygraph package, the same in every generated client\n\n${cached}// #endregion\n`;
}

function moduleSource(name: (typeof MODULES)[number]): string {
  const text = readFileSync(new URL(name, SOURCE_DIR), "utf8").replace(RELATIVE_IMPORT, "");
  // Every import of the runtime is relative and on one line; anything else would break the copied file.
  if (/^import /m.test(text)) throw new Error(`src/client/${name} has an import the generated client cannot copy`);
  return name === "types.ts" ? text : text.replace(EXPORTED, "");
}
