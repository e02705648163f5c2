/**
 * Signed webhooks on task events (Standard Webhooks): the signing helpers receivers use, the endpoints of a
 * task, and the background deliverer of the task store's outbox.
 *
 * @example
 * const deliverer = startWebhookDeliverer(config, registry, store, { logger });
 * await deliverer?.stop();
 */
import { Counter, type Registry } from "prom-client";
import type { ResolvedConfig } from "../config/schema.js";
import type { GraphRegistry } from "../definition/registry.js";
import type { TaskRecord, TaskStore } from "../tasks/types.js";
import { packageInfo } from "../package-info.js";
import { WebhookDeliverer, type DelivererLog } from "./deliverer.js";
import { hasWebhooks, webhookSecrets } from "./endpoints.js";

export { signWebhook, verifyWebhook, WebhookVerificationError, WEBHOOK_TOLERANCE_SECONDS, type WebhookHeaders, type WebhookMessage, type VerifyWebhookOptions } from "./signature.js";
export { taskWebhooks, hasWebhooks, webhookSecrets } from "./endpoints.js";
export { WebhookDeliverer, webhookBackoff, type WebhookDelivererOptions, type DeliveryOutcome } from "./deliverer.js";

/** Options of {@link startWebhookDeliverer}. */
export interface StartWebhookDelivererOptions {
  logger?: DelivererLog;
  /** The process's metrics registry: gains `kaygraph_webhook_deliveries_total{outcome}`. */
  metrics?: Registry;
  /** Shapes the record as `GET /tasks/{id}` shows it. */
  publicTask?: (task: TaskRecord) => TaskRecord;
}

/**
 * Starts delivering the outbox of `store` in this process when the config or any graph declares a webhook;
 * undefined otherwise.
 *
 * @example
 * const deliverer = startWebhookDeliverer(config, registry, store, { logger });
 */
export function startWebhookDeliverer(config: ResolvedConfig, registry: Pick<GraphRegistry, "find" | "list">, store: TaskStore, options: StartWebhookDelivererOptions = {}): WebhookDeliverer | undefined {
  if (!hasWebhooks(config, registry)) return undefined;
  const counter = options.metrics && new Counter({ name: "kaygraph_webhook_deliveries_total", help: "Webhook delivery attempts by outcome (delivered, retry, failed)", labelNames: ["outcome"] as const, registers: [options.metrics] });
  const deliverer = new WebhookDeliverer(store, {
    settings: config.webhookDelivery,
    secretFor: webhookSecrets(config, registry),
    ...(options.publicTask && { publicTask: options.publicTask }),
    ...(options.logger && { log: options.logger }),
    ...(counter && { onOutcome: (outcome) => counter.inc({ outcome }) }),
    userAgent: `kaygraph/${packageInfo().version} (webhooks)`,
  });
  deliverer.start();
  return deliverer;
}
