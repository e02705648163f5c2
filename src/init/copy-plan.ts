import { copyFile, mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { Errors, KaygraphError } from "../errors.js";

/** One file of a template and where it lands in the new project. */
export interface CopyEntry {
  /** Absolute path in the template. */
  readonly source: string;
  /** Path inside the project, `/`-separated. */
  readonly target: string;
}

/**
 * Never copied: installs, local state and secrets a developer may have left in a template folder while
 * working on it. Everything else is copied as it is.
 */
const SKIPPED = new Set(["node_modules", ".kaygraph", ".git", ".env", "package-lock.json", "dist"]);

/**
 * The name a template file gets in the project: a leading `_` on a file in the template's top folder
 * becomes `.` (`_gitignore` → `.gitignore`), because npm drops or renames dotfiles such as `.gitignore`
 * when it packs the package. Deeper files keep their names, so `graphs/_helpers.ts` stays a skipped helper.
 *
 * @example
 * projectPath("_env.example"); // ".env.example"
 * projectPath("graphs/_shared.ts"); // "graphs/_shared.ts"
 */
export function projectPath(templatePath: string): string {
  const parts = templatePath.split(/[\\/]/);
  if (parts.length === 1 && /^_[^_]/.test(parts[0]!)) return `.${parts[0]!.slice(1)}`;
  return parts.join("/");
}

/** Lists every file of the template at `dir` (sorted) with its project path. */
export async function planCopy(dir: string): Promise<CopyEntry[]> {
  const entries: CopyEntry[] = [];
  const walk = async (sub: string): Promise<void> => {
    const items = await readdir(path.join(dir, sub), { withFileTypes: true });
    for (const item of items.sort((a, b) => a.name.localeCompare(b.name))) {
      if (SKIPPED.has(item.name)) continue;
      const rel = sub === "" ? item.name : `${sub}/${item.name}`;
      if (item.isDirectory()) await walk(rel);
      else if (item.isFile()) entries.push({ source: path.join(dir, rel), target: projectPath(rel) });
    }
  };
  try {
    await walk("");
  } catch (error) {
    throw new KaygraphError(Errors.InitTemplateUnknown, { message: `The template folder ${dir} cannot be read.`, hint: "Reinstall kaygraph; its templates/ folder is incomplete.", cause: error });
  }
  return entries;
}

/** What is in a would-be project directory. */
export interface TargetState {
  exists: boolean;
  /** Entries other than `.git` (an empty clone counts as empty). */
  entries: string[];
}

/** Looks at `dir`: missing, empty, or holding files. A path that is a file is an error. */
export async function inspectTarget(dir: string): Promise<TargetState> {
  const info = await stat(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw error;
  });
  if (info === undefined) return { exists: false, entries: [] };
  if (!info.isDirectory()) {
    throw new KaygraphError(Errors.InitTargetInvalid, { message: `${dir} is a file, not a directory.` });
  }
  const entries = (await readdir(dir)).filter((name) => name !== ".git").sort();
  return { exists: true, entries };
}

/** Options of {@link writeProject}. */
export interface WriteOptions {
  /** Structured edits by project path: receive the template file's text, return the text to write. */
  edits?: Readonly<Record<string, (text: string) => string>>;
}

/** Files written by {@link writeProject}, as project paths. */
export interface WriteResult {
  written: string[];
  /** Of those, files that existed before and were replaced. */
  overwritten: string[];
}

/**
 * Copies the planned files into `targetDir` byte for byte, except the files named in `edits`. On a failure
 * the error lists every file written so far, so the user knows what is on disk.
 */
export async function writeProject(plan: readonly CopyEntry[], targetDir: string, options: WriteOptions = {}): Promise<WriteResult> {
  const result: WriteResult = { written: [], overwritten: [] };
  for (const entry of plan) {
    const to = path.join(targetDir, ...entry.target.split("/"));
    try {
      const existed = await stat(to).then(
        () => true,
        () => false,
      );
      await mkdir(path.dirname(to), { recursive: true });
      const edit = options.edits?.[entry.target];
      if (edit) await writeFile(to, edit(await readFile(entry.source, "utf8")));
      else await copyFile(entry.source, to);
      result.written.push(entry.target);
      if (existed) result.overwritten.push(entry.target);
    } catch (error) {
      throw writeFailure(targetDir, entry.target, result.written, error);
    }
  }
  return result;
}

/** The error for a file that could not be written, naming what is already on disk. */
export function writeFailure(targetDir: string, file: string, written: readonly string[], cause: unknown): KaygraphError {
  const reason = (cause as NodeJS.ErrnoException | undefined)?.code ?? (cause instanceof Error ? cause.message : String(cause));
  const state = written.length === 0 ? "Nothing was written." : `Already written in ${targetDir}: ${written.join(", ")}.`;
  return new KaygraphError(Errors.InitWriteFailed, { message: `Could not write ${file} (${reason}). ${state}`, cause });
}
