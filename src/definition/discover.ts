import { existsSync, statSync } from "node:fs";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { Errors, KaygraphError } from "../errors.js";
import { globBase, globToRegExp, isGlob } from "./glob.js";

/** Extensions of graph files. */
const GRAPH_FILE = /\.(ts|mts|js|mjs)$/;
/** Never graph definitions: type declarations, tests, and files or folders starting with `_` or `.`. */
const EXCLUDED = /(\.d\.ts|\.(test|spec)\.(ts|mts|js|mjs))$/;

/** Skips dependency, build and hidden folders while walking. */
const SKIP_DIRS = new Set(["node_modules", "dist", ".kaygraph", ".git"]);

/**
 * Lists graph definition files: every `.ts`/`.mts`/`.js`/`.mjs` file under a directory, or the files
 * matching a glob (relative to the project root). Sorted, so loading order is stable.
 */
export async function discoverGraphFiles(graphs: string, root: string): Promise<string[]> {
  const relative = path.isAbsolute(graphs) ? path.relative(root, graphs) : graphs;
  if (isGlob(relative)) {
    const posix = relative.split(path.sep).join("/");
    const base = path.join(root, globBase(posix));
    const matcher = globToRegExp(posix);
    const files = existsSync(base) ? await walk(base) : [];
    return files.filter((file) => matcher.test(path.relative(root, file).split(path.sep).join("/")) && isGraphFile(file)).sort();
  }
  const dir = path.resolve(root, relative);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new KaygraphError(Errors.GraphsDirMissing, { message: `No graphs directory at ${dir}.` });
  }
  return (await walk(dir)).filter(isGraphFile).sort();
}

function isGraphFile(file: string): boolean {
  const name = path.basename(file);
  return GRAPH_FILE.test(name) && !EXCLUDED.test(name) && !name.startsWith("_") && !name.startsWith(".");
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name) && !entry.name.startsWith("_") && !entry.name.startsWith(".")) out.push(...(await walk(full)));
    } else if (entry.isFile()) {
      out.push(full);
    }
  }
  return out;
}
