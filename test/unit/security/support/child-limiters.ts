// Spawns consume-worker.ts children that share one SQLite file, starts them together, collects their results.
import { execa, type ResultPromise } from "execa";
import path from "node:path";
import { createInterface } from "node:readline";
import { expect, onTestFinished } from "vitest";
import type { ConsumeJob, JobResult } from "../fixtures/consume-worker.js";

const ROOT = path.resolve(import.meta.dirname, "../../../..");
const WORKER = path.join(import.meta.dirname, "../fixtures/consume-worker.ts");

/** A running child and the next lines of its stdout. */
interface Child {
  process: ResultPromise;
  nextLine(): Promise<string>;
}

function spawnChild(file: string, jobs: ConsumeJob[], mode: "exit" | "hold"): Child {
  const child = execa("node", ["--import", "tsx", WORKER, file, JSON.stringify(jobs), mode], { cwd: ROOT, stdin: "pipe", buffer: { stdout: false }, reject: false });
  const stderr: string[] = [];
  child.stderr?.on("data", (chunk: Buffer) => stderr.push(chunk.toString()));
  const waiting: Array<(line: string) => void> = [];
  const queued: string[] = [];
  createInterface({ input: child.stdout! }).on("line", (line) => {
    const waiter = waiting.shift();
    if (waiter) waiter(line);
    else queued.push(line);
  });
  onTestFinished(() => {
    if (child.exitCode === null) child.kill("SIGKILL");
  });
  const nextLine = () =>
    new Promise<string>((resolve, reject) => {
      const line = queued.shift();
      if (line !== undefined) return resolve(line);
      waiting.push(resolve);
      void child.then((done) => reject(new Error(`consume worker exited with ${done.exitCode}: ${stderr.join("")}`)));
    });
  return { process: child, nextLine };
}

/**
 * Runs `jobs` in each of `count` children at the same moment (after all report ready) and returns each child's
 * results. With `hold`, children stay alive afterwards; the handles let the test kill them.
 */
export async function runChildren(file: string, jobs: ConsumeJob[], count: number, mode: "exit" | "hold" = "exit") {
  const children = Array.from({ length: count }, () => spawnChild(file, jobs, mode));
  for (const child of children) expect(await child.nextLine()).toBe("ready");
  for (const child of children) child.process.stdin!.write("go\n");
  const results = await Promise.all(children.map(async (child) => JSON.parse(await child.nextLine()) as JobResult[]));
  return { results, children: children.map((child) => child.process) };
}

