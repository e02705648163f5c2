/**
 * The messages between a worker process's main thread and its run threads. Everything here is
 * structured-cloned; events and outputs cross as they are (what cannot be cloned is sent as its JSON form).
 */
import type { RunInterrupt } from "../../definition/run-errors.js";
import type { CheckpointHead } from "../../graph/checkpoint.js";
import type { RunEvent } from "../../graph/events.js";
import type { RunRequest } from "../executor.js";

/** What a run thread loads: the graph files its process loaded, through the same loader. */
export interface ThreadData {
  files: string[];
  root: string;
  /**
   * Started ahead of its project (a `kaygraph dev` standby): the thread warms up (TypeScript loader, kaygraph
   * itself) and loads nothing until a {@link LoadOrder} names the files.
   */
  deferred?: boolean;
  /**
   * The process's environment when the project was loaded (its `.env` applied): a thread started earlier
   * took a copy of an older one and replaces it with this.
   */
  env?: Record<string, string | undefined>;
  /** The in-place reload these files belong to (`kaygraph dev`; see importModule); left out: the first load. */
  generation?: number;
}

/** Main → thread: what a deferred thread loads (sent once, to threads started with `deferred`). */
export interface LoadOrder {
  type: "pool:data";
  data: ThreadData;
}

/** Main → thread: run a graph. */
export interface RunOrder {
  type: "run";
  job: number;
  graph: string;
  version: number;
  request: RunRequest;
  /** The caller stores checkpoints: the thread sends each one and waits for its answer. */
  checkpoints: boolean;
  /**
   * The run's start checkpoint (its first, at step 0) is sent without waiting for the answer (see
   * `RunControl.startCheckpointHeld`); an answer with an error still stops the run.
   */
  startHeld?: true;
  /** Send only events of these types (the caller needs no others); left out: every event. */
  events?: string[];
  /** The generation the graph was loaded in (an in-place reload): the thread runs that generation's definition. */
  generation?: number;
}

/**
 * Main → thread: load the graphs again under a new generation (an in-place reload of `kaygraph dev`); the
 * thread keeps the previous generation for runs ordered under it, and answers with a {@link ControlReply}.
 */
export interface ReloadOrder {
  type: "reload";
  control: number;
  data: ThreadData;
  /** The generation the main thread serves until the reload is done: kept beside the new one (others are let go). */
  serving: number;
}

/** Thread → main: the answer to an order with a `control` number (`error`: it failed, and why). */
export interface ControlReply {
  type: "control-reply";
  control: number;
  error?: string;
}

/** Main → thread: the checkpoint `seq` of a run was stored (or failed to be). */
export interface CheckpointAnswer {
  type: "checkpoint-done";
  job: number;
  seq: number;
  error?: { message: string; code?: string };
}

/** Thread → main: a checkpoint to store before the run goes on. */
export interface CheckpointReport {
  type: "checkpoint";
  job: number;
  seq: number;
  /** The checkpoint as JSON text (`checkpointText`): a string crosses threads cheaper than the object. */
  checkpoint: string;
  /** The checkpoint but its shared store (`checkpointHead`): the main thread parses the text only if read. */
  head: CheckpointHead;
  /** Events of the run so far (they go out before the checkpoint is stored). */
  events: RunEvent[];
  /** The thread does not wait for this one (a held start checkpoint): answer only if storing it failed. */
  unwaited?: true;
}

/** Main → thread: stop a run through its signal (a `code: "CANCELLED"` reason ends it CANCELLED). */
export interface AbortOrder {
  type: "abort";
  job: number;
  code?: string;
  message: string;
}

/** Thread → main: events of a run, batched per tick. */
export interface EventsReport {
  type: "events";
  job: number;
  events: RunEvent[];
}

/** A run failure as it crosses threads (DefinitionRunError's fields; the cause as text for the log). */
export interface FailureData {
  code: string;
  message: string;
  node?: string;
  details?: unknown;
  interrupt?: RunInterrupt;
  cause?: { name: string; message: string; stack?: string; code?: string };
}

/** Thread → main: the run ended; `events` are its last ones (the terminal event among them). */
export type EndReport = { type: "end"; job: number; events: RunEvent[] } & ({ ok: true; output: unknown } | { ok: false; failure: FailureData });

/** Any message main sends a run thread. */
export type ToThread = RunOrder | AbortOrder | CheckpointAnswer | LoadOrder | ReloadOrder;
/** Any message a run thread sends about a job. */
export type FromThread = EventsReport | EndReport | CheckpointReport;
