import express, { type Express } from "express";
import helmet from "helmet";
import type { Logger } from "pino";
import type { ResolvedConfig } from "../config/schema.js";
import type { GraphRegistry } from "../definition/registry.js";
import type { AppContext, ServerState } from "./context.js";
import { createLogger } from "./logger.js";
import { createMetrics, type Metrics } from "./metrics.js";
import { cors } from "./middleware/cors.js";
import { errorHandler, notFound } from "./middleware/errors.js";
import { httpLog, routeOf } from "./middleware/http-log.js";
import { requestId } from "./middleware/request-id.js";
import { docsRoutes } from "./routes/docs.js";
import { graphRoutes } from "./routes/graphs.js";
import { serviceRoutes } from "./routes/health.js";
import { asyncRoutes, taskRoutes } from "./routes/tasks.js";
import type { TaskStore } from "../tasks/index.js";
import type { Guard } from "./guard.js";
import { authenticate } from "./middleware/auth.js";
import { rateLimit } from "./middleware/rate-limit.js";
import { routeAccess } from "./route-access.js";

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
  /** JWT verification and rate limits (see createGuard); without it neither is applied. */
  guard?: Pick<Guard, "verifier" | "limiter">;
}

/**
 * Builds the Express 5 app that serves `registry`'s graphs (it never listens; tests run it in-process).
 *
 * @example
 * const app = createApp(config, await loadGraphs(config));
 * http.createServer(app).listen(0);
 */
export function createApp(config: ResolvedConfig, registry: GraphRegistry, options: AppOptions = {}): Express & { locals: { kaygraph: AppContext } } {
  const ctx: AppContext = {
    config,
    registry,
    logger: options.logger ?? createLogger(config.log),
    metrics: options.metrics ?? createMetrics(),
    state: options.state ?? { phase: "ready" },
    debug: options.debug ?? false,
    tasks: options.tasks,
    startedAt: Date.now(),
  };
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", config.server.trustProxy);
  app.set("etag", false);
  app.locals.kaygraph = ctx;

  app.use(requestId());
  app.use((_req, res, next) => {
    // While draining, tell keep-alive clients to reconnect (they reach a worker that is not leaving).
    if (ctx.state.phase === "draining") res.setHeader("Connection", "close");
    next();
  });
  app.use(httpLog(ctx.logger));
  app.use((req, res, next) => {
    const end = ctx.metrics.httpDuration.startTimer({ method: req.method });
    res.on("finish", () => end({ route: routeOf(req), status: String(res.statusCode) }));
    next();
  });
  app.use(helmet({ crossOriginResourcePolicy: { policy: "same-site" } }));
  app.use(cors(config.server.corsOrigins));
  const access = routeAccess(config, registry);
  const { verifier, limiter } = options.guard ?? {};
  if (verifier) app.use(authenticate(verifier, access.isPublic, limiter, config.rateLimit.anonymous));
  if (limiter) app.use(rateLimit(limiter, config.rateLimit, registry, access.isLimited));

  app.use(serviceRoutes(ctx));
  if (config.server.docs) app.use(docsRoutes(ctx));
  app.use(graphRoutes(ctx));
  app.use(asyncRoutes(ctx));
  app.use(taskRoutes(ctx));
  app.use(notFound());
  app.use(errorHandler(ctx.logger, ctx.debug));
  return app as Express & { locals: { kaygraph: AppContext } };
}
