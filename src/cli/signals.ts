import type { KaygraphError } from "../errors.js";

/** What {@link runUntilStopped} drives: a cluster, a dev server or a task worker. */
export interface Stoppable {
  /** Graceful stop (drain); resolves when done. */
  close(): Promise<void>;
  /** Immediate stop (a second signal). */
  kill?(): void;
  /** Resolves if the service gives up on its own; its error becomes the command's. */
  gaveUp?: Promise<KaygraphError>;
}

/** Options of {@link runUntilStopped}. */
export interface RunUntilStoppedOptions {
  /** Line printed on the first SIGTERM/SIGINT (it names the signal). */
  stopping: (signal: NodeJS.Signals) => string;
  /** SIGHUP handler (serve: rolling reload); without one SIGHUP is ignored. */
  onHangup?: () => void;
  say?: (line: string) => void;
}

/**
 * Runs a long-lived service until SIGTERM/SIGINT: the first drains it gracefully (exit code 0), a second
 * kills it at once (exit code 130). If the service gives up by itself, it is closed and its error thrown
 * (exit code from the error). The command's action awaits this; `cli/main.ts` then exits.
 */
export async function runUntilStopped(service: Stoppable, options: RunUntilStoppedOptions): Promise<void> {
  const say = options.say ?? ((line: string) => process.stderr.write(`${line}\n`));
  let onStop: (signal: NodeJS.Signals) => void = () => undefined;
  const hangup = () => options.onHangup?.();
  const stopped = new Promise<void>((resolve) => {
    let stopping = 0;
    onStop = (signal) => {
      // One signal sent to both us and our process group arrives twice at once: that is not a second signal.
      if (stopping && Date.now() - stopping < 300) return;
      if (stopping) {
        say(`kaygraph: second ${signal}, exiting now`);
        service.kill?.();
        process.exitCode = 130;
        resolve();
        return;
      }
      stopping = Date.now();
      say(options.stopping(signal));
      void service.close().then(resolve);
    };
  });
  process.on("SIGTERM", onStop);
  process.on("SIGINT", onStop);
  process.on("SIGHUP", hangup);
  try {
    const gaveUp = await Promise.race([stopped.then(() => undefined), service.gaveUp ?? new Promise<never>(() => undefined)]);
    if (gaveUp) {
      await service.close();
      throw gaveUp;
    }
  } finally {
    process.off("SIGTERM", onStop);
    process.off("SIGINT", onStop);
    process.off("SIGHUP", hangup);
  }
}
