import type { Readable, Writable } from "node:stream";
import * as clack from "@clack/prompts";

/** Thrown by a prompt the user cancelled (Ctrl-C or Escape). */
export class PromptCancelled extends Error {
  constructor() {
    super("The prompt was cancelled");
    this.name = "PromptCancelled";
  }
}

/** A choice of a select prompt. */
export interface Choice<T extends string> {
  value: T;
  label?: string;
  hint?: string;
}

/** A running progress indicator. */
export interface Spinner {
  start(message: string): void;
  stop(message: string): void;
  error(message: string): void;
}

/**
 * What `kaygraph init` asks and prints through. The clack implementation is the real one; tests inject
 * streams into it (or a fake). Prompts reject with {@link PromptCancelled} when the user cancels.
 */
export interface Prompter {
  intro(title: string): void;
  text(options: { message: string; placeholder?: string; defaultValue?: string; validate?: (value: string) => string | undefined }): Promise<string>;
  select<T extends string>(options: { message: string; options: Array<Choice<T>>; initialValue?: T }): Promise<T>;
  confirm(options: { message: string; initialValue?: boolean }): Promise<boolean>;
  /** `onCancel` runs when SIGINT/SIGTERM arrives while the spinner runs. */
  spinner(options?: { onCancel?: () => void }): Spinner;
  step(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  note(message: string, title?: string): void;
  outro(message: string): void;
}

/** Streams of a {@link createClackPrompter}. */
export interface PrompterStreams {
  /** Keys come from here (default process.stdin). */
  input?: Readable;
  /** Everything is drawn here (default process.stderr: stdout stays machine-readable). */
  output?: Writable;
}

function answered<T>(value: T): Exclude<T, symbol> {
  if (clack.isCancel(value)) throw new PromptCancelled();
  return value as Exclude<T, symbol>;
}

/**
 * The @clack/prompts prompter. Streams are injectable so tests can type keys and read the screen.
 *
 * @example
 * const prompter = createClackPrompter({ input: process.stdin, output: process.stderr });
 * const name = await prompter.text({ message: "Project directory?", defaultValue: "my-app" });
 */
export function createClackPrompter(streams: PrompterStreams = {}): Prompter {
  const input = streams.input ?? process.stdin;
  const output = streams.output ?? process.stderr;
  const io = { input, output };
  const animated = (output as Writable & { isTTY?: boolean }).isTTY === true;
  return {
    intro: (title) => clack.intro(title, io),
    text: async ({ validate, ...options }) => answered(await clack.text({ ...options, ...io, ...(validate && { validate: (value) => validate(value ?? "") }) })),
    select: async <T extends string>(options: { message: string; options: Array<Choice<T>>; initialValue?: T }) =>
      answered(await clack.select<T>({ ...options, options: options.options as clack.Option<T>[], ...io })) as T,
    confirm: async (options) => answered(await clack.confirm({ ...options, ...io })),
    spinner: (options = {}) => (animated ? clackSpinner(output, options.onCancel) : lineSpinner(output, options.onCancel)),
    step: (message) => clack.log.step(message, io),
    info: (message) => clack.log.info(message, io),
    warn: (message) => clack.log.warn(message, io),
    note: (message, title) => clack.note(message, title, io),
    outro: (message) => clack.outro(message, io),
  };
}

function clackSpinner(output: Writable, onCancel: (() => void) | undefined): Spinner {
  const spin = clack.spinner({ output, onCancel });
  return {
    start(message) {
      spin.start(message);
      // clack's spinner puts the terminal in raw mode and exits 0 on Ctrl-C. Back in cooked mode, Ctrl-C is a
      // SIGINT again: it reaches the package manager (same process group) and the spinner's SIGINT handler,
      // which calls onCancel, so the command ends with 130 and says what is on disk.
      if (process.stdin.isTTY) process.stdin.setRawMode(false);
    },
    stop: (message) => spin.stop(message),
    error: (message) => spin.error(message),
  };
}

/** Without a terminal: one line when work starts and one when it ends, no animation. */
function lineSpinner(output: Writable, onCancel: (() => void) | undefined): Spinner {
  const cancel = () => onCancel?.();
  const detach = () => {
    process.off("SIGINT", cancel);
    process.off("SIGTERM", cancel);
  };
  return {
    start(message) {
      process.on("SIGINT", cancel);
      process.on("SIGTERM", cancel);
      clack.log.step(`${message}…`, { output });
    },
    stop(message) {
      detach();
      clack.log.success(message, { output });
    },
    error(message) {
      detach();
      clack.log.error(message, { output });
    },
  };
}
