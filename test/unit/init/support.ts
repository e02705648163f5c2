import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { PassThrough, Writable } from "node:stream";
import { stripVTControlCharacters } from "node:util";
import { onTestFinished } from "vitest";
import type { CommandResult, CommandRunner } from "../../../src/init/commands.js";
import type { Prompter, Spinner } from "../../../src/init/prompter.js";

/** Keys as a terminal sends them. */
export const KEY = { enter: "\r", down: "\x1b[B", up: "\x1b[A", ctrlC: "\x03", escape: "\x1b" } as const;

/** A fake terminal for clack: type keys into `input`, read the screen from `output`. */
export function fakeTerminal() {
  const input = new PassThrough();
  let raw = "";
  const waiters = new Set<() => void>();
  const output = new Writable({
    write(chunk: Buffer, _encoding, done) {
      raw += chunk.toString();
      for (const wake of waiters) wake();
      done();
    },
  });
  const screen = () => stripVTControlCharacters(raw);
  return {
    input,
    output,
    screen,
    /** Where the screen ends now: pass to waitFor to wait for something drawn after this point. */
    mark: () => screen().length,
    /** Resolves once the screen (after `from`) shows `text`; fails with the whole screen after 5 s. */
    waitFor(text: string, from = 0): Promise<void> {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!screen().slice(from).includes(text)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`the screen never showed ${JSON.stringify(text)}:\n${screen()}`));
        }, 5_000);
        waiters.add(check);
        check();
      });
    },
    type(keys: string): void {
      input.write(keys);
    },
  };
}

/** A prompter that records what it prints and answers nothing (for non-interactive runs). */
export function recordingPrompter(): Prompter & { lines: string[]; spinners: string[] } {
  const lines: string[] = [];
  const spinners: string[] = [];
  const fail = () => Promise.reject(new Error("no prompt expected"));
  return {
    lines,
    spinners,
    intro: (title) => lines.push(`intro ${title}`),
    text: fail,
    select: fail,
    confirm: fail,
    spinner: (): Spinner => ({
      start: (m) => spinners.push(`start ${m}`),
      stop: (m) => spinners.push(`stop ${m}`),
      error: (m) => spinners.push(`error ${m}`),
    }),
    step: (m) => lines.push(`step ${m}`),
    info: (m) => lines.push(`info ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    note: (m, title) => lines.push(`note ${title ?? ""}\n${m}`),
    outro: (m) => lines.push(`outro ${m}`),
  };
}

/** A command runner that records calls and answers from `answers` (by "cmd firstArg"), else success. */
export function fakeRunner(answers: Record<string, Partial<CommandResult> | ((signal?: AbortSignal) => Promise<Partial<CommandResult>>)> = {}) {
  const calls: Array<{ command: string; args: readonly string[]; cwd: string }> = [];
  const run: CommandRunner = async (command, args, options) => {
    calls.push({ command, args, cwd: options.cwd });
    const answer = answers[`${command} ${args[0]}`] ?? (command === "git" && args[0] === "rev-parse" ? { code: 128, output: "fatal: not a git repository" } : {});
    const result = typeof answer === "function" ? await answer(options.signal) : answer;
    return { code: 0, signal: null, output: "", ...result };
  };
  return { run, calls, commands: () => calls.map((c) => `${c.command} ${c.args.join(" ")}`) };
}

/** A temp directory, removed when the test ends. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "kaygraph-init-"));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}
