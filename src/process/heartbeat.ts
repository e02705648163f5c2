import type { Server } from "node:http";
import type { RunObserver } from "../runs/service.js";
import type { WorkerMessage } from "./messages.js";
import type { RunRecordWriter } from "./run-record.js";

/** Options of {@link startHeartbeat}. */
export interface HeartbeatOptions {
  /** How often the main event loop reports (ms). */
  intervalMs: number;
  /** The IPC channel to the primary. */
  send: (message: WorkerMessage) => void;
}

/**
 * A run observer that records each inline run's start (graph, version, transport, request or task id) for
 * the primary (see run-record.ts), so a worker the watchdog kills for silence is named with the run it was
 * busy with. Recorded at once, synchronously — before user code can block the event loop. Only inline runs: a
 * run in a worker thread cannot silence the main loop.
 */
export function runReporter(record: RunRecordWriter): RunObserver {
  return {
    begin(run) {
      if (run.execution !== "inline") return undefined;
      record.record({ graph: run.graph.name, version: run.graph.version, kind: run.transport, requestId: run.taskId ?? run.requestId });
      return undefined;
    },
  };
}

/**
 * The worker's side of the watchdog and of recycling: from the main event loop, every `intervalMs`, tells
 * the primary it is alive, how many requests it has served and its resident memory. Returns a stop function.
 */
export function startHeartbeat(server: Server, options: HeartbeatOptions): () => void {
  let requests = 0;
  const onRequest = () => {
    requests++;
  };
  server.on("request", onRequest);
  const beat = () => options.send({ type: "kaygraph:heartbeat", requests, rssMb: process.memoryUsage.rss() / 1_048_576 });
  beat();
  const timer = setInterval(beat, options.intervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    server.off("request", onRequest);
  };
}
