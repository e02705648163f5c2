import { Counter, Registry } from "prom-client";

/** Why a worker was replaced: it crashed, the watchdog killed it, or it was recycled. */
export type RestartReason = "crash" | "timeout" | "max_requests" | "max_memory";

const REASONS: readonly RestartReason[] = ["crash", "timeout", "max_requests", "max_memory"];

/** The primary's own metrics, merged into the workers' in `/metrics`. */
export interface PrimaryMetrics {
  registry: Registry;
  /** Counts one worker replacement. */
  restarted(reason: RestartReason): void;
}

/**
 * Creates the primary's metrics: `kaygraph_worker_restarts_total{reason}`, every reason present from the
 * start (at 0) so dashboards and alerts see the series before the first restart.
 */
export function createPrimaryMetrics(): PrimaryMetrics {
  const registry = new Registry();
  const restarts = new Counter({ name: "kaygraph_worker_restarts_total", help: "Worker processes replaced, by reason (crash, timeout, max_requests, max_memory)", labelNames: ["reason"] as const, registers: [registry] });
  for (const reason of REASONS) restarts.inc({ reason }, 0);
  return { registry, restarted: (reason) => restarts.inc({ reason }) };
}
