import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { onTestFinished } from "vitest";

/** A file tree: path → contents (objects are written as JSON). */
export type FileTree = Record<string, string | object>;

/** Writes `files` under `dir`. */
export async function writeTree(dir: string, files: FileTree): Promise<void> {
  for (const [name, contents] of Object.entries(files)) {
    const file = path.join(dir, name);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, typeof contents === "string" ? contents : `${JSON.stringify(contents, null, 2)}\n`);
  }
}

/**
 * Creates a temp project (os.tmpdir()/kaygraph-*) with `files`, removed after the test unless
 * KAYGRAPH_KEEP_TMP=1. Projects get a node_modules link to this repo so `import "kaygraph"` resolves.
 */
export async function tmpProject(files: FileTree = {}, options: { linkKaygraph?: boolean } = {}): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "kaygraph-"));
  await writeTree(dir, files);
  if (options.linkKaygraph !== false) await linkPackages(dir);
  onTestFinished(async () => {
    if (process.env.KAYGRAPH_KEEP_TMP !== "1") await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

/** Links this repo (as `kaygraph`) and its zod into `dir/node_modules`, as an installed project would have. */
export async function linkPackages(dir: string): Promise<void> {
  const { symlink } = await import("node:fs/promises");
  const repo = path.resolve(import.meta.dirname, "../..");
  await mkdir(path.join(dir, "node_modules"), { recursive: true });
  await symlink(repo, path.join(dir, "node_modules", "kaygraph"), "dir");
  await symlink(path.join(repo, "node_modules", "zod"), path.join(dir, "node_modules", "zod"), "dir");
}
