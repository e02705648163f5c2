import type { Logger } from "pino";
import type { ResolvedConfig } from "../config/schema.js";
import type { GraphRegistry, LoadedGraph } from "../definition/registry.js";
import type { TaskStore } from "../tasks/index.js";
import type { Metrics } from "./metrics.js";

/** Readiness of a server process: `/ready` answers 503 while starting or draining. */
export interface ServerState {
  phase: "starting" | "ready" | "draining";
}

/** Everything route factories need, passed explicitly (no globals). */
export interface AppContext {
  config: ResolvedConfig;
  registry: GraphRegistry;
  logger: Logger;
  metrics: Metrics;
  state: ServerState;
  /** The durable task store (`/async`, `/tasks`); undefined = background tasks unavailable. */
  tasks: TaskStore | undefined;
  /** Show GRAPH_ERROR messages to callers (dev, --debug). */
  debug: boolean;
  startedAt: number;
}

/** The timeout of a sync or streaming run: the definition's, else the server default. */
export function runTimeout(ctx: AppContext, graph: LoadedGraph): number {
  return graph.definition.timeoutMs ?? ctx.config.server.requestTimeoutMs;
}
