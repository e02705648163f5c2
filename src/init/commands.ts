import { spawn } from "node:child_process";

/** How a child command ended, with its stdout and stderr interleaved. */
export interface CommandResult {
  /** Exit code; null when killed by a signal or never started. */
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  /** Set when the command could not be started (e.g. ENOENT: not installed). */
  error?: NodeJS.ErrnoException;
}

/** Runs a command to completion and never rejects. Injectable so tests need no npm or git. */
export type CommandRunner = (command: string, args: readonly string[], options: { cwd: string; signal?: AbortSignal }) => Promise<CommandResult>;

/** Output kept per command: the tail is what explains a failure. */
const MAX_OUTPUT = 256 * 1024;

/**
 * Spawns `command` (through the shell on Windows, where npm is `npm.cmd`), collecting its output.
 *
 * @example
 * const { code, output } = await runCommand("git", ["init"], { cwd: "/tmp/app" });
 */
export const runCommand: CommandRunner = (command, args, options) =>
  new Promise((resolve) => {
    let output = "";
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.length > MAX_OUTPUT) output = output.slice(-MAX_OUTPUT);
    };
    const child = spawn(command, [...args], {
      cwd: options.cwd,
      signal: options.signal,
      stdio: ["ignore", "pipe", "pipe"],
      shell: process.platform === "win32",
      env: { ...process.env, FORCE_COLOR: "0", NO_UPDATE_NOTIFIER: "1", npm_config_update_notifier: "false" },
    });
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    let startError: NodeJS.ErrnoException | undefined;
    child.on("error", (error: NodeJS.ErrnoException) => {
      // An abort also arrives here (AbortError); the close event still reports how the child ended.
      if (error.name !== "AbortError") startError = error;
    });
    child.on("close", (code, signal) => resolve({ code, signal, output, ...(startError && { error: startError }) }));
  });

/** The last `lines` non-empty lines of a command's output. */
export function tail(output: string, lines = 40): string {
  return output
    .split(/\r?\n/)
    .filter((line) => line.trim() !== "")
    .slice(-lines)
    .join("\n");
}
