import type { Logger } from "pino";
import type { ResolvedConfig } from "../config/schema.js";
import type { GraphRegistry } from "../definition/registry.js";
import type { RunService } from "../runs/service.js";
import type { StoreHealth, TaskStore } from "../tasks/index.js";
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
  /** Health of the task and rate-limit stores: `/ready` answers 503 while one is down. */
  health: StoreHealth;
  /** Show GRAPH_ERROR messages to callers (dev, --debug). */
  debug: boolean;
  /** The one way every transport runs a graph (validation, execution, metering, error mapping). */
  runs: RunService;
  /** When the server started (epoch ms): `/health`'s uptime. */
  startedAt: number;
  /** When these graphs were loaded (epoch ms; an in-place reload of `kaygraph dev` makes a new app). */
  loadedAt: number;
}
