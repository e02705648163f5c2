/** The dev watcher (src/process/watch.ts) on a real temp folder: batching, same-content saves, emptied files. */
import { mkdtemp, mkdir, rm, truncate, writeFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { watchProject } from "../../../src/process/watch.js";

/** A watcher on a fresh folder; every reported batch is kept, with each file's text as it was when reported. */
async function watched(relevant?: (file: string) => boolean) {
  const dir = await mkdtemp(path.join(os.tmpdir(), "kaygraph-watch-"));
  const batches: Array<Array<{ file: string; text: string | undefined }>> = [];
  let ready!: () => void;
  const isReady = new Promise<void>((resolve) => (ready = resolve));
  const watcher = watchProject({
    dirs: [dir],
    relevant,
    debounceMs: 40,
    onReady: () => ready(),
    onChange: (paths) => batches.push(paths.map((file) => ({ file, text: textOf(path.join(dir, file)) }))),
  });
  cleanups.push(async () => {
    await watcher.close();
    await rm(dir, { recursive: true, force: true });
  });
  await isReady;
  /** Resolves once a batch naming `file` was reported after `from` batches; fails past the deadline. */
  const reported = async (file: string, from = 0, deadlineMs = 8_000) => {
    const end = Date.now() + deadlineMs;
    for (;;) {
      const found = batches.slice(from).find((batch) => batch.some((entry) => entry.file === file));
      if (found) return found;
      if (Date.now() > end) throw new Error(`${file} was not reported within ${deadlineMs} ms (batches: ${JSON.stringify(batches)})`);
      await delay(10);
    }
  };
  return { dir, batches, reported };
}

function textOf(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe("watchProject", () => {
  it("reports files saved together in one sorted batch", async () => {
    const { dir, batches, reported } = await watched();
    await Promise.all([writeFile(path.join(dir, "b.ts"), "export const b = 1;\n"), writeFile(path.join(dir, "a.ts"), "export const a = 1;\n")]);
    const batch = await reported("a.ts");
    expect(batch.map((entry) => entry.file)).toEqual(["a.ts", "b.ts"]);
    expect(batches.flat().filter((entry) => entry.file === "a.ts")).toHaveLength(1);
  });

  it("leaves out a save of the text already reported, and reports a changed text", async () => {
    const { dir, batches, reported } = await watched();
    const file = path.join(dir, "graph.ts");
    await writeFile(file, "one\n");
    await reported("graph.ts");
    const after = batches.length;
    // The same text again, then another file: once that is reported, the same-text save had its quiet period too.
    await writeFile(file, "one\n");
    await delay(100);
    await writeFile(path.join(dir, "fence.ts"), "x\n");
    await reported("fence.ts", after);
    expect(batches.slice(after).flat().map((entry) => entry.file)).not.toContain("graph.ts");
    await writeFile(file, "two\n");
    const changed = await reported("graph.ts", after);
    expect(changed.find((entry) => entry.file === "graph.ts")?.text).toBe("two\n");
  });

  it("waits for the text of a file just emptied (a save that truncates first), and reports it once", async () => {
    const { dir, batches, reported } = await watched();
    const file = path.join(dir, "graph.ts");
    await writeFile(file, "before\n");
    await reported("graph.ts");
    const after = batches.length;
    // An editor's save on a busy machine: truncated, the text written 400 ms later (several quiet periods).
    await truncate(file, 0);
    await delay(400);
    await writeFile(file, "after\n");
    const batch = await reported("graph.ts", after);
    expect(batch.find((entry) => entry.file === "graph.ts")?.text).toBe("after\n");
    // No report of the empty file came before it, and none after (the fence shows the quiet periods passed).
    await writeFile(path.join(dir, "fence.ts"), "x\n");
    await reported("fence.ts", after);
    expect(batches.slice(after).flat().filter((entry) => entry.file === "graph.ts").map((entry) => entry.text)).toEqual(["after\n"]);
  });

  it("reports a file left empty once its wait is over", async () => {
    const { dir, reported } = await watched();
    const file = path.join(dir, "graph.ts");
    await writeFile(file, "before\n");
    await reported("graph.ts");
    const started = Date.now();
    await truncate(file, 0);
    const batch = await reported("graph.ts", 1);
    expect(batch.find((entry) => entry.file === "graph.ts")?.text).toBe("");
    // It waited for text that never came (about 1.5 s), but not for ever.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
  });

  it("never reports ignored folders or files the filter rejects", async () => {
    const { dir, batches, reported } = await watched((file) => !file.endsWith(".md"));
    await mkdir(path.join(dir, "node_modules", "pkg"), { recursive: true });
    await writeFile(path.join(dir, "node_modules", "pkg", "index.js"), "x\n");
    await writeFile(path.join(dir, "notes.md"), "x\n");
    await delay(100);
    await writeFile(path.join(dir, "fence.ts"), "x\n");
    await reported("fence.ts");
    expect(batches.flat().map((entry) => entry.file)).toEqual(["fence.ts"]);
  });
});
