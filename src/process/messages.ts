import type { LoadConfigOptions } from "../config/load.js";
import type { ThreadShape } from "../runs/start.js";

/** What a worker needs to start: how to load the project's settings, and its role. */
export interface WorkerOptions {
  load: Pick<LoadConfigOptions, "cwd" | "configFile" | "flags" | "commandDefaults">;
  /** The concrete port every worker listens on (the primary resolves a configured 0). */
  port: number;
  /** Stacks and causes in load errors (`--debug`). */
  debug: boolean;
  /** Show GRAPH_ERROR messages to callers (dev, `--debug`). */
  exposeErrors: boolean;
  /** During a drain, how long a keep-alive socket stays unused before the worker closes it (default 250 ms). */
  drainIdleMs?: number;
  /** How long an unused keep-alive socket stays open (default 65 s; see StartServerOptions.keepAliveTimeoutMs). */
  keepAliveTimeoutMs?: number;
  /** Regenerate `.kaygraph/generated` after loading (one worker per (re)load does it). */
  generate: boolean;
  /** Ordinal of this worker, for logs. */
  index: number;
  /**
   * The service opened its stores already (a worker forked after the first was ready): never create the
   * SQLite file, and start degraded rather than fail when a store cannot be opened.
   */
  joinStores?: boolean;
  /**
   * A warm standby (dev): it loads kaygraph and tsx, then waits for a `kaygraph:load` message before touching
   * the project, so a reload skips process start-up and framework loading.
   */
  standby?: boolean;
  /** A standby starts run threads of this shape while it waits (the last loaded project's). */
  threads?: ThreadShape;
  /** Where the worker records each inline run it starts (see run-record.ts); set by the primary. */
  runFile?: string;
}

/** The settings a ready worker loaded that the primary follows (`serve` re-reads them on SIGHUP). */
export interface WorkerSettings {
  workers: number;
  shutdownTimeoutMs: number;
  /** Watchdog: silence (ms) after which the worker is killed; 0 = off. */
  workerTimeoutMs: number;
  maxRequests: number;
  maxRequestsJitter: number;
  maxMemoryMb: number;
  /** The run threads of this project's workers (none when every graph runs inline): a standby prestarts them. */
  threads?: ThreadShape;
}

/** Environment variable that carries {@link WorkerOptions} to a worker process. */
export const WORKER_ENV = "KAYGRAPH_WORKER_OPTIONS";

/** Worker → primary. */
export type WorkerMessage =
  /** `settingsModules`: what the config file imported (a change there needs a new process). */
  | { type: "kaygraph:ready"; port: number; graphs: number; modules: string[]; settingsModules: string[]; settings: WorkerSettings }
  /** From the main event loop, every second or so: proof of life, and what recycling looks at. */
  | { type: "kaygraph:heartbeat"; requests: number; rssMb: number }
  | { type: "kaygraph:load-failed"; message: string; exitCode: number; modules: string[] }
  | { type: "kaygraph:draining" }
  | { type: "kaygraph:standby" }
  /** A standby finished warming up (its rehearsal ran): the primary may start the next one. */
  | { type: "kaygraph:standby-warm" }
  | { type: "kaygraph:fatal"; message: string }
  | { type: "kaygraph:metrics-request"; id: number }
  | { type: "kaygraph:metrics-json"; id: number; metrics: unknown[] }
  /** Answers to `kaygraph:swap`: the new graphs serve; they did not load (the old ones serve); a new process is needed. */
  | { type: "kaygraph:swapped"; graphs: number; modules: string[] }
  | { type: "kaygraph:swap-failed"; message: string; modules: string[] }
  | { type: "kaygraph:swap-refused" };

/** Primary → worker. */
export type PrimaryMessage =
  /** `handover`: a replacement serves the port already; requests that still arrive are passed on to it. */
  | { type: "kaygraph:drain"; deadlineMs: number; handover?: boolean }
  | { type: "kaygraph:load"; index: number; generate: boolean }
  /** An in-place reload (dev): load the graphs again under `generation` and serve them from this process. */
  | { type: "kaygraph:swap"; generation: number }
  | { type: "kaygraph:metrics-response"; id: number; text?: string; error?: string }
  | { type: "kaygraph:metrics-collect"; id: number };

/** True for a message of ours (cluster also carries prom-client's and Node's own). */
export function isWorkerMessage(message: unknown): message is WorkerMessage {
  return typeof message === "object" && message !== null && typeof (message as { type?: unknown }).type === "string" && (message as { type: string }).type.startsWith("kaygraph:");
}
