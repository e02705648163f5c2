import type { Worker } from "node:cluster";
import { AggregatorRegistry, type Registry } from "prom-client";
import type { PrimaryMessage } from "./messages.js";

interface Pending {
  expected: number;
  responses: unknown[];
  done: () => void;
  timer: NodeJS.Timeout;
}

/**
 * Collects the metrics of the workers that serve and aggregates them (prom-client's aggregation rules). Only
 * serving workers are asked, and one that does not answer in time is left out rather than failing
 * `/metrics` for everyone (prom-client's own cluster protocol asks every forked process, standbys included,
 * and times out when one of them is still starting).
 */
export class MetricsCollector {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  /** `own`: the primary's registry, merged with the workers' (its counters add to theirs). */
  constructor(private readonly own?: Registry) {}

  /** Asks `workers` for their metrics; resolves with the aggregated Prometheus text. */
  collect(workers: Worker[], timeoutMs = 2_000): Promise<string> {
    const id = this.nextId++;
    const live = workers.filter((w) => w.isConnected());
    return new Promise((resolve) => {
      const finish = () => {
        const entry = this.pending.get(id);
        if (!entry) return;
        clearTimeout(entry.timer);
        this.pending.delete(id);
        void (this.own ? this.own.getMetricsAsJSON() : Promise.resolve(undefined))
          .then((own) => AggregatorRegistry.aggregate([...entry.responses, ...(own ? [own] : [])] as Parameters<typeof AggregatorRegistry.aggregate>[0]).metrics())
          .then(resolve);
      };
      this.pending.set(id, { expected: live.length, responses: [], done: finish, timer: setTimeout(finish, timeoutMs) });
      const message: PrimaryMessage = { type: "kaygraph:metrics-collect", id };
      for (const worker of live) worker.send(message);
      if (live.length === 0) finish();
    });
  }

  /** A worker's answer to request `id`. */
  receive(id: number, metrics: unknown[]): void {
    const entry = this.pending.get(id);
    if (!entry) return;
    entry.responses.push(metrics);
    if (entry.responses.length >= entry.expected) entry.done();
  }
}
