/**
 * Module resolve hook for in-place reloads (`kaygraph dev`): a module imported under a generation
 * (`file:///app/graphs/hello.ts?kg-gen=3`, see importModule) passes that generation on to the project modules it
 * imports, so a reload re-evaluates the graph files and every project module under them — fresh instances,
 * beside the old generation's, which in-flight runs keep using. Dependencies under node_modules and kaygraph's
 * own files resolve as usual: one instance for every generation. Registered after tsx's hooks, so it sees
 * the final URL (a `.js` specifier already mapped to its `.ts` file).
 */

/** What `register` passes: where kaygraph's own modules live (they never get a generation). */
export interface GenerationHookData {
  /** URL prefixes of kaygraph's own files (its dist/ and src/ folders). */
  own: string[];
}

/** The query parameter that carries a generation. */
const PARAM = "kg-gen";
let own: readonly string[] = [];

export function initialize(data: GenerationHookData): void {
  own = data.own;
}

interface Resolved {
  url: string;
  format?: string | null;
  shortCircuit?: boolean;
}

export async function resolve(specifier: string, context: { parentURL?: string }, nextResolve: (specifier: string, context: unknown) => Promise<Resolved>): Promise<Resolved> {
  const resolved = await nextResolve(specifier, context);
  const parent = context.parentURL;
  if (parent === undefined || !parent.includes(`${PARAM}=`)) return resolved;
  const { url } = resolved;
  if (!url.startsWith("file:") || url.includes("?") || url.includes("/node_modules/") || own.some((prefix) => url.startsWith(prefix))) return resolved;
  const generation = new URL(parent).searchParams.get(PARAM);
  return generation === null ? resolved : { ...resolved, url: `${url}?${PARAM}=${generation}` };
}
