/**
 * Module resolve hook of a run thread (registered by thread-entry.ts with `module.register`): where graph code
 * imports this package's own entry (`kaygraph` → dist/index.js), it gets dist/thread-index.js instead — the
 * same exports without loading the HTTP server's modules into every thread. Another copy of the package (a
 * project's own install beside a global CLI) resolves as usual.
 */

/** The two URLs, from `register`'s `data`. */
export interface ResolveHookData {
  index: string;
  threadIndex: string;
}

let urls: ResolveHookData | undefined;

export function initialize(data: ResolveHookData): void {
  urls = data;
}

interface Resolved {
  url: string;
  format?: string | null;
  shortCircuit?: boolean;
}

export async function resolve(specifier: string, context: unknown, nextResolve: (specifier: string, context: unknown) => Promise<Resolved>): Promise<Resolved> {
  const resolved = await nextResolve(specifier, context);
  return urls !== undefined && resolved.url === urls.index ? { ...resolved, url: urls.threadIndex } : resolved;
}
