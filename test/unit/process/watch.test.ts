/** The dev watcher (src/process/watch.ts) on a real temp folder: batching, same-content saves, emptied files. */
import { mkdtemp, mkdir, rm, truncate, writeFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { watchProject } from "../../../src/process/watch.js";

/** The quiet period of these watchers: long enough that two writes made together land in one batch on a busy machine. */
const DEBOUNCE_MS = 150;

/**
 * A watcher on a fresh folder holding `files` (written before it starts, so only their later saves are
 * reported); every reported batch is kept, with each file's text as it was when reported.
 */
async function watched(files: Record<string, string>, relevant?: (file: string) => boolean) {
  const dir = await mkdtemp(path.join(os.tmpdir(), "kaygraph-watch-"));
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
  const batches: Array<Array<{ file: string; text: string | undefined }>> = [];
  const errors: unknown[] = [];
  let ready!: () => void;
  const isReady = new Promise<void>((resolve) => (ready = resolve));
  const watcher = watchProject({
    dirs: [dir],
    relevant,
    debounceMs: DEBOUNCE_MS,
    onReady: () => ready(),
    onError: (error) => errors.push(error),
    onChange: (paths) => batches.push(paths.map((file) => ({ file, text: textOf(path.join(dir, file)) }))),
  });
  cleanups.push(async () => {
    await watcher.close();
    await rm(dir, { recursive: true, force: true });
  });
  await isReady;
  /** Resolves with the first batch naming `file` after the first `from` batches; fails past the deadline. */
  const reported = async (file: string, from: number, deadlineMs = 10_000) => {
    const end = Date.now() + deadlineMs;
    for (;;) {
      const found = batches.slice(from).find((batch) => batch.some((entry) => entry.file === file));
      if (found) return found;
      if (Date.now() > end) throw new Error(`${file} was not reported within ${deadlineMs} ms (batches: ${JSON.stringify(batches)}; watcher errors: ${errors.map(String).join("; ") || "none"})`);
      await delay(10);
    }
  };
  /** The texts reported for `file` after the first `from` batches. */
  const textsOf = (file: string, from: number) => batches.slice(from).flat().filter((entry) => entry.file === file).map((entry) => entry.text);
  /**
   * Saves a file nobody else touches and waits for its report: every event of what was saved before it has
   * passed its quiet period by then (the batches are reported in order).
   */
  const fence = async (from: number) => {
    await writeFile(path.join(dir, "fence.ts"), `${Date.now()}\n`);
    await reported("fence.ts", from);
  };
  return { dir, watcher, batches, reported, textsOf, fence };
}

function textOf(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

/** Blocks this thread for `ms` (the event loop runs nothing meanwhile), as a busy process would. */
function busy(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // spin
  }
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe("watchProject", () => {
  it("reports files saved together in one sorted batch, once", async () => {
    const { dir, batches, reported, textsOf, fence } = await watched({ "a.ts": "a\n", "b.ts": "b\n", "fence.ts": "" });
    await Promise.all([writeFile(path.join(dir, "b.ts"), "export const b = 1;\n"), writeFile(path.join(dir, "a.ts"), "export const a = 1;\n")]);
    const batch = await reported("a.ts", 0);
    expect(batch.map((entry) => entry.file)).toEqual(["a.ts", "b.ts"]);
    await fence(batches.length);
    expect(textsOf("a.ts", 0)).toEqual(["export const a = 1;\n"]);
    expect(textsOf("b.ts", 0)).toEqual(["export const b = 1;\n"]);
  });

  it("leaves out a save of the text already reported, and reports a changed text", async () => {
    const { dir, batches, reported, textsOf, fence } = await watched({ "graph.ts": "zero\n", "fence.ts": "" });
    const file = path.join(dir, "graph.ts");
    await writeFile(file, "one\n");
    await reported("graph.ts", 0);
    const after = batches.length;
    await writeFile(file, "one\n");
    await fence(after);
    expect(textsOf("graph.ts", after)).toEqual([]);
    await writeFile(file, "two\n");
    const changed = await reported("graph.ts", after);
    expect(changed.find((entry) => entry.file === "graph.ts")?.text).toBe("two\n");
  });

  it("reports a new file once, even when its add event comes after the quiet period of its first write", async () => {
    const { dir, watcher, batches, textsOf, fence } = await watched({ "fence.ts": "" });
    // The first raw event of the new file is seen; then the process is busy past the quiet period, so the batch
    // of that write is reported before chokidar's own `add` (it stats the file first) comes in.
    let held = false;
    watcher.on("raw", (event, name) => {
      if (event !== "change" || name !== "new.ts" || held) return;
      held = true;
      busy(DEBOUNCE_MS + 100);
    });
    await writeFile(path.join(dir, "new.ts"), "export default 1;\n");
    await fence(0);
    await fence(batches.length);
    expect(held).toBe(true);
    expect(textsOf("new.ts", 0)).toEqual(["export default 1;\n"]);
  });

  it("reports a file removed and made again with the same text", async () => {
    const { dir, batches, reported, textsOf } = await watched({ "graph.ts": "same\n" });
    const file = path.join(dir, "graph.ts");
    await rm(file);
    await reported("graph.ts", 0);
    const after = batches.length;
    await writeFile(file, "same\n");
    await reported("graph.ts", after);
    expect(textsOf("graph.ts", 0)).toEqual([undefined, "same\n"]);
  });

  it("waits for the text of a file just emptied (a save that truncates first), and reports it once", async () => {
    const { dir, textsOf, reported, fence } = await watched({ "graph.ts": "before\n", "fence.ts": "" });
    const file = path.join(dir, "graph.ts");
    // An editor's save on a busy machine: truncated, the text written 400 ms later (past the quiet period).
    await truncate(file, 0);
    await delay(400);
    await writeFile(file, "after\n");
    const batch = await reported("graph.ts", 0);
    expect(batch.find((entry) => entry.file === "graph.ts")?.text).toBe("after\n");
    await fence(0);
    // No report of the empty file came before it, and none after.
    expect(textsOf("graph.ts", 0)).toEqual(["after\n"]);
  });

  it("reports a file left empty once its wait is over", async () => {
    const { dir, reported } = await watched({ "graph.ts": "before\n" });
    const started = Date.now();
    await truncate(path.join(dir, "graph.ts"), 0);
    const batch = await reported("graph.ts", 0);
    expect(batch.find((entry) => entry.file === "graph.ts")?.text).toBe("");
    // It waited for text that never came (about 1.5 s), but not for ever.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
  });

  it("never reports ignored folders or files the filter rejects", async () => {
    const { dir, batches, fence } = await watched({ "fence.ts": "" }, (file) => !file.endsWith(".md"));
    await mkdir(path.join(dir, "node_modules", "pkg"), { recursive: true });
    await writeFile(path.join(dir, "node_modules", "pkg", "index.js"), "x\n");
    await writeFile(path.join(dir, "notes.md"), "x\n");
    await fence(0);
    expect(batches.flat().map((entry) => entry.file)).toEqual(["fence.ts"]);
  });

  it("reports nothing once closed, not even a batch waiting for its quiet period", async () => {
    const { dir, watcher, batches } = await watched({ "graph.ts": "before\n" });
    // Closed as soon as the change is seen, inside its quiet period.
    const seen = new Promise<void>((resolve) => watcher.once("raw", () => resolve()));
    await writeFile(path.join(dir, "graph.ts"), "after\n");
    await seen;
    await watcher.close();
    await delay(DEBOUNCE_MS * 3);
    expect(batches).toEqual([]);
  });
});
