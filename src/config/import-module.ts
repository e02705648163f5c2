import { register as registerHooks } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { GenerationHookData } from "./generation-hook.js";

let registered: Promise<unknown> | undefined;
const imported = new Set<string>();

/**
 * Registers tsx's loader now (a warm standby worker does this before it knows which project to load), and
 * after it the hook that carries a reload's generation to the project modules a graph imports (see
 * generation-hook.ts; built files only — from the sources a generation reaches the graph file alone).
 */
export async function registerTypeScript(): Promise<void> {
  registered ??= import("tsx/esm/api").then(({ register }) => {
    register({
      onImport: (url) => {
        if (url.startsWith("file:") && !url.includes("/node_modules/")) imported.add(fileURLToPath(url));
      },
    });
    if (generationsSupported()) {
      const data: GenerationHookData = { own: [new URL("../", import.meta.url).href, new URL("../../src/", import.meta.url).href] };
      registerHooks(new URL("./generation-hook.js", import.meta.url), { data });
    }
  });
  await registered;
}

/**
 * True when a new generation of a module also loads the project modules it imports afresh (see
 * generation-hook.ts): kaygraph runs from its built files. From its TypeScript sources (its own tests) only the
 * graph file itself would, so `kaygraph dev` reloads those in a new process instead.
 */
export function generationsSupported(): boolean {
  return import.meta.url.endsWith(".js");
}

/**
 * Absolute paths of the user's modules loaded so far through {@link importModule} and what they import
 * (dependencies under node_modules excluded): what `kaygraph dev` watches besides graphs, config and `.env`.
 */
export function importedFiles(): string[] {
  return [...imported].sort();
}

/** Forgets the modules recorded so far (a standby's rehearsal imported none of the project's). */
export function forgetImportedFiles(): void {
  imported.clear();
}

/**
 * Imports a user module (`.ts`, `.mts`, `.js`, `.mjs`) with tsx's loader registered once, so users write
 * plain TypeScript with no build step. Node caches modules: a changed file is seen again only under a new
 * `generation` (1, 2, …: the file and the project modules it imports load afresh, see generation-hook.ts)
 * or in a new process.
 */
export async function importModule(file: string, generation = 0): Promise<Record<string, unknown>> {
  await registerTypeScript();
  const url = pathToFileURL(file).href;
  return (await import(generation > 0 ? `${url}?kg-gen=${generation}` : url)) as Record<string, unknown>;
}

/**
 * Says why a module failed to load, with the `file:line:column` in the user's code where that is known:
 * syntax errors carry it in their message; runtime errors in the first stack frame under `projectDir`.
 */
export function describeLoadError(error: unknown, projectDir: string): string {
  if (!(error instanceof Error)) return String(error);
  const message = error.message.replace(/^Transform failed with \d+ errors?:\n/, "").trim();
  if (/:\d+:\d+: ERROR:/.test(message)) return `syntax error: ${message}`;
  const location = userFrame(error.stack ?? "", projectDir);
  const text = location ? `${error.name}: ${message} (at ${location})` : `${error.name}: ${message}`;
  // tsx compiles .ts as CommonJS outside an ES-module package; kaygraph projects are ES modules.
  if (/require\(\) ES Module|ERR_REQUIRE_ESM/.test(message)) return `${text}\nAdd "type": "module" to the project's package.json.`;
  return text;
}

function userFrame(stack: string, folder: string): string | undefined {
  for (const line of stack.split("\n").slice(1)) {
    const match = /\(?((?:file:\/\/)?\/[^():]+):(\d+):(\d+)\)?\s*$/.exec(line.trim());
    if (!match) continue;
    // A reload's generation (`?kg-gen=3`) is no part of the file's name.
    const file = (match[1] as string).replace(/^file:\/\//, "").replace(/\?kg-gen=\d+$/, "");
    if (file.includes("/node_modules/") || !file.startsWith(folder)) continue;
    return `${file}:${match[2]}:${match[3]}`;
  }
  return undefined;
}
