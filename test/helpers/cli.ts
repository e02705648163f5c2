import { execa, type ResultPromise } from "execa";
import { stripVTControlCharacters } from "node:util";
import { fileURLToPath } from "node:url";
import { onTestFinished } from "vitest";

/** The built CLI the e2e tests run. */
export const BIN = fileURLToPath(new URL("../../bin/kaygraph.js", import.meta.url));

/** Environment every spawned CLI gets: no colours, test sentinels on. */
export function testEnv(env: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return { NO_COLOR: "1", FORCE_COLOR: "0", CI: "1", KAYGRAPH_TEST: "1", ...env };
}

export interface RunCliOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  input?: string;
  timeout?: number;
}

/** Runs the built CLI to completion and returns exit code and output (never throws on exit code). */
export async function runCli(args: string[], options: RunCliOptions = {}) {
  const result = await execa(process.execPath, [BIN, ...args], {
    cwd: options.cwd,
    env: testEnv(options.env),
    reject: false,
    input: options.input,
    stdin: options.input === undefined ? "ignore" : undefined,
    timeout: options.timeout ?? 60_000,
    stripFinalNewline: false,
  });
  return {
    exitCode: result.exitCode ?? -1,
    stdout: stripVTControlCharacters(String(result.stdout)),
    stderr: stripVTControlCharacters(String(result.stderr)),
    signal: result.signal,
  };
}

/** A long-running CLI process (dev, serve, worker) with helpers to wait for output. */
export interface CliHandle {
  readonly process: ResultPromise;
  readonly pid: number;
  /** Everything printed so far. */
  output(): { stdout: string; stderr: string };
  /** Resolves with the matching text once stdout or stderr contains `pattern` (after `from` chars). */
  waitFor(pattern: string | RegExp, timeoutMs?: number, from?: number): Promise<string>;
  /** Waits for the `kaygraph: ready port=<n>` sentinel and returns the port. */
  ready(timeoutMs?: number): Promise<number>;
  /** Total characters seen so far on stdout+stderr (use as `from` to wait for a *new* line). */
  mark(): number;
  /** Everything printed (stdout and stderr, interleaved as received) since `mark`. */
  since(mark: number): string;
  /** Sends a signal. */
  kill(signal?: NodeJS.Signals): void;
  /** Resolves with the exit code when the process ends. */
  exited(): Promise<{ exitCode: number | undefined; signal: string | undefined }>;
  /** SIGTERM, then SIGKILL after a delay; resolves when gone. */
  stop(): Promise<void>;
}

/** Starts the built CLI in the background; it is stopped automatically when the test ends. */
export function startCli(args: string[], options: RunCliOptions & { autoStop?: boolean } = {}): CliHandle {
  const child = execa(process.execPath, [BIN, ...args], {
    cwd: options.cwd,
    env: testEnv(options.env),
    reject: false,
    stdin: "ignore",
    forceKillAfterDelay: 5_000,
    cleanup: true,
  });
  let stdout = "";
  let stderr = "";
  let combined = "";
  const waiters = new Set<() => void>();
  const onData = (which: "out" | "err") => (chunk: Buffer) => {
    const text = stripVTControlCharacters(chunk.toString());
    if (which === "out") stdout += text;
    else stderr += text;
    combined += text;
    for (const w of waiters) w();
  };
  child.stdout?.on("data", onData("out"));
  child.stderr?.on("data", onData("err"));
  let exitInfo: { exitCode: number | undefined; signal: string | undefined } | undefined;
  const exitPromise = child.then((r) => {
    exitInfo = { exitCode: r.exitCode, signal: r.signal };
    for (const w of waiters) w();
    return exitInfo;
  });

  const handle: CliHandle = {
    process: child,
    pid: child.pid ?? -1,
    output: () => ({ stdout, stderr }),
    mark: () => combined.length,
    since: (from) => combined.slice(from),
    waitFor(pattern, timeoutMs = 30_000, from = 0) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const text = combined.slice(from);
          const match = typeof pattern === "string" ? (text.includes(pattern) ? pattern : null) : text.match(pattern)?.[0];
          if (match) {
            cleanup();
            resolve(match);
          } else if (exitInfo) {
            cleanup();
            reject(new Error(`process exited (${JSON.stringify(exitInfo)}) before printing ${String(pattern)}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${String(pattern)}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async ready(timeoutMs = 60_000) {
      const line = await handle.waitFor(/kaygraph: ready port=\d+/, timeoutMs);
      return Number(line.split("port=")[1]);
    },
    kill(signal = "SIGTERM") {
      child.kill(signal);
    },
    exited: () => exitPromise,
    async stop() {
      if (exitInfo) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exitPromise;
      clearTimeout(timer);
    },
  };
  if (options.autoStop !== false) onTestFinished(() => handle.stop());
  return handle;
}
