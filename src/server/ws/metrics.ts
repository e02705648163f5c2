import { Counter, Gauge, type Registry } from "prom-client";

/** The WebSocket server's Prometheus metrics (summed over workers by the cluster primary). */
export interface WsMetrics {
  /** Open sockets. */
  connections: Gauge;
  /** Messages by direction (`in` from clients, `out` to them). */
  messages: Counter<"direction">;
  /** Sockets closed by the server, by close code (1001 shutdown, 1008 policy, 1009 too big, 1013 slow…). */
  closes: Counter<"code">;
  /** Functions reporting bytes waiting to go out (one per server), summed into `kaygraph_ws_buffered_bytes`. */
  buffered: Set<() => number>;
}

const cache = new WeakMap<Registry, WsMetrics>();

/**
 * The WebSocket metrics on `registry`, created once per registry (several servers may share one in tests).
 *
 * @example
 * const metrics = wsMetrics(ctx.metrics.registry); metrics.connections.inc();
 */
export function wsMetrics(registry: Registry): WsMetrics {
  const existing = cache.get(registry);
  if (existing) return existing;
  const buffered = new Set<() => number>();
  const metrics: WsMetrics = {
    connections: new Gauge({ name: "kaygraph_ws_connections", help: "Open WebSocket connections", registers: [registry] }),
    messages: new Counter({ name: "kaygraph_ws_messages_total", help: "WebSocket messages by direction (in, out)", labelNames: ["direction"] as const, registers: [registry] }),
    closes: new Counter({ name: "kaygraph_ws_server_closes_total", help: "WebSocket connections closed by the server, by close code", labelNames: ["code"] as const, registers: [registry] }),
    buffered,
  };
  new Gauge({
    name: "kaygraph_ws_buffered_bytes",
    help: "Bytes queued for WebSocket clients that read slower than they are sent to",
    registers: [registry],
    collect() {
      let sum = 0;
      for (const report of buffered) sum += report();
      this.set(sum);
    },
  });
  cache.set(registry, metrics);
  return metrics;
}
