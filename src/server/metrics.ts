import cluster from "node:cluster";
import { Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { RunEvent } from "../graph/events.js";
import { bindHistogram, type BoundObserver } from "./bound-histogram.js";

/** The server's Prometheus metrics (one registry per app; the cluster primary aggregates workers). */
export interface Metrics {
  registry: Registry;
  /**
   * The metrics of runs of one graph version through one route kind, with their label sets bound once: the
   * same meter for every call with the same graph, version and kind.
   */
  runMeter(graph: { name: string; version: number }, kind: "sync" | "stream" | "ws" | "task"): RunMeter;
  /** Records one HTTP request's duration (label sets bound once per method, route and status). */
  observeHttp(method: string, route: string, status: number, seconds: number): void;
}

/** Counters of one graph version's runs; see {@link Metrics.runMeter}. */
export interface RunMeter {
  /** A run began: counts it in progress; returns its start time. */
  begin(): number;
  /** The run that began at `started` ended with `outcome` (`completed`, `graph_error`, `timeout`…). */
  end(started: number, outcome: string): void;
  /** Records node durations from the run's events. */
  onEvent(event: RunEvent): void;
}

const SECONDS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * Creates the metrics: HTTP duration by route and status, graph run duration and outcome by graph and
 * version, node duration by graph and node, plus Node's process metrics.
 */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "kaygraph_" });
  const httpDuration = new Histogram({ name: "kaygraph_http_request_duration_seconds", help: "HTTP request duration by route and status", labelNames: ["method", "route", "status"] as const, buckets: SECONDS, registers: [registry] });
  const graphRunDuration = new Histogram({ name: "kaygraph_graph_run_duration_seconds", help: "Graph run duration by graph, version and outcome", labelNames: ["graph", "version", "outcome"] as const, buckets: SECONDS, registers: [registry] });
  const nodeDuration = new Histogram({ name: "kaygraph_node_duration_seconds", help: "Node step duration by graph and node", labelNames: ["graph", "node"] as const, buckets: SECONDS, registers: [registry] });
  const runsInProgress = new Gauge({ name: "kaygraph_graph_runs_in_progress", help: "Graph runs in progress by graph and kind", labelNames: ["graph", "kind"] as const, registers: [registry] });
  // prom-client hashes a label object on every call; bound observers skip that on the hot path.
  const nodeChildren = new Map<string, BoundObserver>();
  const httpChildren = new Map<string, BoundObserver>();
  const meters = new Map<string, RunMeter>();
  const newMeter = (graph: { name: string; version: number }, kind: string): RunMeter => {
    const version = String(graph.version);
    const progress = runsInProgress.labels({ graph: graph.name, kind });
    const durations = new Map<string, BoundObserver>();
    return {
      begin: () => {
        progress.inc();
        return performance.now();
      },
      end: (started, outcome) => {
        progress.dec();
        if (outcome === "validation_error") return;
        let child = durations.get(outcome);
        if (!child) durations.set(outcome, (child = bindHistogram(graphRunDuration, { graph: graph.name, version, outcome })));
        child.observe((performance.now() - started) / 1000);
      },
      onEvent: (event) => {
        if (event.type !== "node_end") return;
        const key = `${graph.name}\n${event.node}`;
        let child = nodeChildren.get(key);
        if (!child) nodeChildren.set(key, (child = bindHistogram(nodeDuration, { graph: graph.name, node: event.node })));
        child.observe(event.duration_ms / 1000);
      },
    };
  };
  return {
    registry,
    runMeter: (graph, kind) => {
      const key = `${kind}\n${graph.name}\n${graph.version}`;
      let meter = meters.get(key);
      if (!meter) meters.set(key, (meter = newMeter(graph, kind)));
      return meter;
    },
    observeHttp: (method, route, status, seconds) => {
      const key = `${method} ${route} ${status}`;
      let child = httpChildren.get(key);
      if (!child) httpChildren.set(key, (child = bindHistogram(httpDuration, { method, route, status: String(status) })));
      child.observe(seconds);
    },
  };
}

let nextRequest = 0;

/**
 * The text `/metrics` answers: in a cluster worker, every worker's metrics aggregated by the primary;
 * otherwise this process's own.
 */
export function metricsText(metrics: Metrics): Promise<string> {
  if (!cluster.isWorker || process.send === undefined) return metrics.registry.metrics();
  const id = ++nextRequest;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      process.off("message", onMessage);
      reject(new Error("The primary did not answer the metrics request in time"));
    }, 5_000);
    const onMessage = (message: { type?: string; id?: number; text?: string; error?: string }) => {
      if (message?.type !== "kaygraph:metrics-response" || message.id !== id) return;
      clearTimeout(timer);
      process.off("message", onMessage);
      if (message.text !== undefined) resolve(message.text);
      else reject(new Error(message.error ?? "metrics aggregation failed"));
    };
    process.on("message", onMessage);
    process.send?.({ type: "kaygraph:metrics-request", id });
  });
}
