import { Router } from "express";
import { packageInfo } from "../../package-info.js";
import type { AppContext } from "../context.js";
import { HttpError } from "../http-error.js";
import { metricsText } from "../metrics.js";
import { methodNotAllowed } from "../middleware/errors.js";
import { readiness } from "../readiness.js";

/** `/health` (alive), `/ready` (503 while starting or draining, or a store is down) and `/metrics` (Prometheus text). */
export function serviceRoutes(ctx: AppContext, router: Router = Router()): Router {
  router
    .route("/health")
    .get((_req, res) => {
      res.json({ status: "healthy", service: "kaygraph-api", version: packageInfo().version, uptime_s: Math.round((Date.now() - ctx.startedAt) / 1000), graphs: ctx.registry.size, pid: process.pid });
    })
    .all(methodNotAllowed(["GET"]));
  router
    .route("/ready")
    .get((_req, res) => {
      // Not ready while starting or draining, or while a store it depends on is down (the JSON says which and why).
      // With rateLimit.failOpen a down counter store lets requests through: reported, but still ready.
      const answer = readiness(ctx.state.phase, ctx.health.snapshot(), ctx.config.rateLimit.failOpen ? ["limits"] : []);
      if (!answer.ready) throw new HttpError(503, "UNAVAILABLE", answer.message, { details: answer.details, headers: { "Retry-After": "1" } });
      res.json(answer.body);
    })
    .all(methodNotAllowed(["GET"]));
  router
    .route("/metrics")
    .get(async (_req, res) => {
      res.type(ctx.metrics.registry.contentType).send(await metricsText(ctx.metrics));
    })
    .all(methodNotAllowed(["GET"]));
  return router;
}
