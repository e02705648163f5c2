import type { RunObserver } from "../runs/service.js";
import type { Metrics } from "./metrics.js";

/**
 * The run service's metrics observer: runs in progress, run duration by outcome, node durations (from the
 * run's `node_end` events), per graph version and transport. One-shot CLI runs are not metered.
 *
 * @example
 * createRunService({ config, registry, observers: [meterObserver(metrics)] });
 */
/** The only events the meter reads (node durations). */
const NODE_ENDS: ReadonlySet<string> = new Set(["node_end"]);

export function meterObserver(metrics: Metrics): RunObserver {
  return {
    begin(run) {
      if (run.transport === "cli") return undefined;
      const meter = metrics.runMeter(run.graph, run.transport);
      const started = meter.begin();
      return { onEvent: meter.onEvent, events: NODE_ENDS, end: (outcome) => meter.end(started, outcome) };
    },
  };
}
