/** Backends under test and small helpers of the task conformance suite. */
import { execa } from "execa";
import { fileURLToPath } from "node:url";
import { vi } from "vitest";
import type { TaskEvent, TaskStore, TaskStoreSettings } from "../../../src/tasks/index.js";

/** One isolated backing storage (a fresh SQLite file, or a fresh Redis key prefix). */
export interface Backend {
  readonly name: "sqlite" | "redis";
  /** Opens a store on this storage, as another process would; closed by `dispose`. */
  open(settings?: Partial<TaskStoreSettings>): Promise<TaskStore>;
  /** Environment a child process needs to open the same storage (see fixtures/child.ts). */
  readonly childEnv: Record<string, string>;
  /** Background errors the stores reported (a test fails on unexpected ones). */
  readonly errors: unknown[];
  dispose(): Promise<void>;
}

/** Creates a fresh backend per test. */
export type BackendFactory = () => Promise<Backend>;

/** Settings of stores under test unless a test overrides them (plus an onError that records). */
export const TEST_SETTINGS: Omit<TaskStoreSettings, "onError"> = {
  maxLost: 3,
  retentionMs: 3_600_000,
  maxRetained: 1_000,
  idempotencyTtlMs: 60_000,
  pollMs: 200,
};

/** Polls `check` until it returns a value other than undefined/false (default deadline 10 s). */
export async function until<T>(check: () => Promise<T | undefined | false> | T | undefined | false, timeout = 10_000): Promise<T> {
  return vi.waitFor(
    async () => {
      const value = await check();
      if (value === undefined || value === false) throw new Error("condition not met yet");
      return value;
    },
    { timeout, interval: 20 },
  );
}

/** Collects a subscription's events until the terminal one. */
export function collect(store: TaskStore, id: string, afterSeq = 0): { events: TaskEvent[]; done: Promise<TaskEvent[]>; stop: () => void } {
  const events: TaskEvent[] = [];
  let resolve!: (e: TaskEvent[]) => void;
  const done = new Promise<TaskEvent[]>((r) => (resolve = r));
  const stop = store.subscribe(id, afterSeq, (event) => {
    events.push(event);
    if (event.type === "result" || event.type === "error") resolve(events);
  });
  return { events, done, stop };
}

const CHILD = fileURLToPath(new URL("./fixtures/child.ts", import.meta.url));

/** Runs fixtures/child.ts with a command in a separate Node process (loaded through tsx). */
export function spawnChild(backend: Backend, command: Record<string, unknown>) {
  return execa(process.execPath, ["--import", "tsx", CHILD, JSON.stringify(command)], {
    env: { ...backend.childEnv, NODE_NO_WARNINGS: "1" },
    reject: false,
    timeout: 30_000,
    forceKillAfterDelay: 2_000,
    cleanup: true,
  });
}

/** Asserts the stored-event invariants: seq 1..n without gaps, exactly one terminal event, last. */
export function checkEventLog(events: TaskEvent[]): void {
  events.forEach((event, i) => {
    if (event.seq !== i + 1) throw new Error(`event ${i} has seq ${event.seq}, expected ${i + 1}: ${JSON.stringify(events)}`);
  });
  const terminals = events.filter((e) => e.type === "result" || e.type === "error");
  if (terminals.length !== 1 || terminals[0] !== events.at(-1)) throw new Error(`expected exactly one terminal event, last: ${JSON.stringify(events)}`);
}
