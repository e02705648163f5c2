import express, { Router, type Express } from "express";
import type { Logger } from "pino";
import type { ResolvedConfig } from "../config/schema.js";
import type { GraphRegistry } from "../definition/registry.js";
import type { AppContext, ServerState } from "./context.js";
import { createLogger } from "./logger.js";
import { createMetrics, type Metrics } from "./metrics.js";
import { cors } from "./middleware/cors.js";
import { errorHandler, notFound } from "./middleware/errors.js";
import { installRequestLogger } from "./middleware/http-log.js";
import { requestContext } from "./middleware/request-context.js";
import { API_HELMET, helmetHeaders } from "./middleware/security-headers.js";
import { docsRoutes } from "./routes/docs.js";
import { graphRoutes } from "./routes/graphs.js";
import { serviceRoutes } from "./routes/health.js";
import { staticRoutes } from "./routes/static.js";
import { studioRoutes } from "./routes/studio.js";
import { streamRoutes } from "./routes/stream.js";
import { asyncRoutes, taskRoutes } from "./routes/tasks.js";
import { StoreHealth, type TaskStore } from "../tasks/index.js";
import type { Guard } from "./guard.js";
import { authenticate } from "./middleware/auth.js";
import { rateLimit } from "./middleware/rate-limit.js";
import { routeAccess } from "./route-access.js";
import { createRunService, type RunService } from "../runs/service.js";
import { meterObserver } from "./run-metering.js";
import { traceObserver } from "../tracing/observer.js";
import { traceRequests } from "../tracing/http-spans.js";
import { tracingExported } from "../tracing/sdk.js";

/** Options of {@link createApp}. */
export interface AppOptions {
  logger?: Logger;
  metrics?: Metrics;
  /** Shared with the listener, which flips it to `draining` on shutdown. Default: ready. */
  state?: ServerState;
  /** Show GRAPH_ERROR messages to callers (dev and --debug). */
  debug?: boolean;
  /** The task store behind `/async` and `/tasks` (see createTaskStore); without it those routes answer 503. */
  tasks?: TaskStore;
  /** Health of the stores, shown by `/ready` (startServer watches them); default: none watched. */
  health?: StoreHealth;
  /** JWT verification and rate limits (see createGuard); without it neither is applied. */
  guard?: Pick<Guard, "verifier" | "limiter">;
  /**
   * The run service every route runs graphs through (see createRunService). Default: one that runs inline
   * and meters into `metrics` (startServer passes one with the worker-thread pool).
   */
  runs?: RunService;
  /** When the server started, if before this app was made (an in-place reload's app keeps the uptime). */
  startedAt?: number;
}

/**
 * Builds the Express 5 app that serves `registry`'s graphs (it never listens; tests run it in-process).
 *
 * @example
 * const app = createApp(config, await loadGraphs(config));
 * http.createServer(app).listen(0);
 */
export function createApp(config: ResolvedConfig, registry: GraphRegistry, options: AppOptions = {}): Express & { locals: { kaygraph: AppContext } } {
  const logger = options.logger ?? createLogger(config.log);
  const metrics = options.metrics ?? createMetrics();
  const debug = options.debug ?? false;
  const ctx: AppContext = {
    config,
    registry,
    logger,
    metrics,
    state: options.state ?? { phase: "ready" },
    debug,
    tasks: options.tasks,
    health: options.health ?? new StoreHealth(),
    runs: options.runs ?? createRunService({ config, registry, debug, logger, observers: [meterObserver(metrics), traceObserver] }),
    startedAt: options.startedAt ?? Date.now(),
    loadedAt: Date.now(),
  };
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", config.server.trustProxy);
  app.set("etag", false);
  app.locals.kaygraph = ctx;

  installRequestLogger(app.request, ctx.logger);
  app.use(requestContext(ctx, helmetHeaders(API_HELMET)));
  // Only when kaygraph exports traces itself: an application with its own HTTP instrumentation has the span already.
  if (tracingExported()) app.use(traceRequests());
  if (config.server.corsOrigins.length > 0) app.use(cors(config.server.corsOrigins));
  const access = routeAccess(config, registry);
  const { verifier, limiter } = options.guard ?? {};
  if (verifier) app.use(authenticate(verifier, access.isPublic, limiter, config.rateLimit.anonymous));
  if (limiter) app.use(rateLimit(limiter, config.rateLimit, registry, access.isLimited));

  // Graph runs first, each found by its path in one look-up (see graph-post.ts); then one router for every
  // other route (each nested router costs a prefix match per request).
  graphRoutes(ctx, app);
  streamRoutes(ctx, app);
  asyncRoutes(ctx, app);
  const routes = Router();
  taskRoutes(ctx, routes);
  serviceRoutes(ctx, routes);
  if (config.server.docs) docsRoutes(ctx, routes);
  if (config.server.studio) studioRoutes(ctx, routes);
  staticRoutes(ctx, routes);
  app.use(routes);
  app.use(notFound());
  app.use(errorHandler(ctx.logger, ctx.debug));
  return app as Express & { locals: { kaygraph: AppContext } };
}
