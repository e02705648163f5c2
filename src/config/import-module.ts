import { fileURLToPath, pathToFileURL } from "node:url";

let registered: Promise<unknown> | undefined;
const imported = new Set<string>();

/** Registers tsx's loader now (a warm standby worker does this before it knows which project to load). */
export async function registerTypeScript(): Promise<void> {
  registered ??= import("tsx/esm/api").then(({ register }) =>
    register({
      onImport: (url) => {
        if (url.startsWith("file:") && !url.includes("/node_modules/")) imported.add(fileURLToPath(url));
      },
    }),
  );
  await registered;
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
 * plain TypeScript with no build step. Node caches modules: a changed file needs a new process.
 */
export async function importModule(file: string): Promise<Record<string, unknown>> {
  await registerTypeScript();
  return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
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
    const file = (match[1] as string).replace(/^file:\/\//, "");
    if (file.includes("/node_modules/") || !file.startsWith(folder)) continue;
    return `${file}:${match[2]}:${match[3]}`;
  }
  return undefined;
}
