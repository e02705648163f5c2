import { GraphInterrupt } from "./interrupt.js";
import { Node, type Action, type NodeOptions } from "./node.js";

/** What {@link MetricsNode.getStats} returns. */
export interface NodeStats {
  totalExecutions: number;
  successCount: number;
  errorCount: number;
  /** successCount / totalExecutions, 0 before any execution. */
  successRate: number;
  avgDurationMs: number;
  minDurationMs: number;
  maxDurationMs: number;
  /** Sum over executions of the attempt index of the last attempt (0 when the first attempt succeeded). */
  totalRetries: number;
}

/** Options of a {@link MetricsNode}. */
export interface MetricsNodeOptions extends NodeOptions {
  /** Record metrics (default true). */
  collectMetrics?: boolean;
}

interface Counters {
  durations: number[];
  successCount: number;
  errorCount: number;
  totalRetries: number;
}

/**
 * A node that records timing, retries and outcomes of each of its steps. The counters live on the node you
 * created and accumulate across runs and graph steps (every step's copy shares them). A step whose error
 * `onError` suppressed counts as a success.
 *
 * @example
 * const call = new CallModel({ maxRetries: 3 }); await graph.run(shared); call.getStats().avgDurationMs;
 */
export class MetricsNode<S = any, P = any, E = any> extends Node<S, P, E> {
  readonly collectMetrics: boolean;
  private readonly counters: Counters = { durations: [], successCount: 0, errorCount: 0, totalRetries: 0 };

  constructor(options: MetricsNodeOptions | number = {}, wait?: number) {
    super(options, wait);
    this.collectMetrics = typeof options === "number" ? true : (options.collectMetrics ?? true);
  }

  override async _run(shared: S, nodeEvents = false, startAt = -1): Promise<Action> {
    if (!this.collectMetrics) return super._run(shared, nodeEvents, startAt);
    const started = performance.now();
    try {
      const action = await super._run(shared, nodeEvents, startAt);
      this.record(started, true);
      return action;
    } catch (error) {
      // An interrupt is a pause, not a failed execution.
      if (!(error instanceof GraphInterrupt)) this.record(started, false);
      throw error;
    }
  }

  /** Aggregated statistics of every recorded step. */
  getStats(): NodeStats {
    const { durations, successCount, errorCount, totalRetries } = this.counters;
    const total = durations.length;
    const sum = durations.reduce((a, b) => a + b, 0);
    return {
      totalExecutions: total,
      successCount,
      errorCount,
      successRate: total === 0 ? 0 : successCount / total,
      avgDurationMs: total === 0 ? 0 : sum / total,
      minDurationMs: total === 0 ? 0 : Math.min(...durations),
      maxDurationMs: total === 0 ? 0 : Math.max(...durations),
      totalRetries,
    };
  }

  /** Forgets every recorded step. */
  resetStats(): void {
    this.counters.durations.length = 0;
    this.counters.successCount = 0;
    this.counters.errorCount = 0;
    this.counters.totalRetries = 0;
  }

  private record(started: number, ok: boolean): void {
    this.counters.durations.push(performance.now() - started);
    this.counters.totalRetries += this.curRetry;
    if (ok) this.counters.successCount++;
    else this.counters.errorCount++;
  }
}
