/**
 * Which endpoints a task notifies, and with which secret: the config's `webhooks` plus its definition's own
 * (a definition endpoint with the same URL replaces the config one for that graph). A task stores its
 * endpoints' URLs and events when it is created; secrets stay in the settings and are looked up at delivery.
 */
import { WEBHOOK_EVENTS, type WebhookEndpoint } from "../config/webhooks.js";
import type { GraphDefinition } from "../definition/define.js";
import type { GraphRegistry } from "../definition/registry.js";
import type { TaskRecord, TaskWebhook } from "../tasks/types.js";

/** The settings this module reads. */
export interface WebhookConfig {
  readonly webhooks: readonly WebhookEndpoint[];
}

function endpointsOf(config: WebhookConfig, definition: Pick<GraphDefinition, "webhooks"> | undefined): WebhookEndpoint[] {
  const own = definition?.webhooks ?? [];
  const urls = new Set(own.map((e) => e.url));
  return [...config.webhooks.filter((e) => !urls.has(e.url)), ...own];
}

/**
 * The endpoints a new task of `definition` notifies (stored with the task), or null when none.
 *
 * @example
 * await store.submit({ graph, version, input, webhooks: taskWebhooks(config, graph.definition) });
 */
export function taskWebhooks(config: WebhookConfig, definition: Pick<GraphDefinition, "webhooks"> | undefined): TaskWebhook[] | null {
  const endpoints = endpointsOf(config, definition);
  return endpoints.length === 0 ? null : endpoints.map((e) => ({ url: e.url, events: e.events ?? [...WEBHOOK_EVENTS] }));
}

/** True when the config or any graph declares a webhook (the deliverer runs only then). */
export function hasWebhooks(config: WebhookConfig, registry: Pick<GraphRegistry, "list">): boolean {
  return config.webhooks.length > 0 || registry.list().some((g) => (g.definition.webhooks?.length ?? 0) > 0);
}

/**
 * Looks up the signing secret of a task's endpoint in the current settings (undefined: no longer configured).
 *
 * @example
 * const secretFor = webhookSecrets(config, registry); secretFor(task, "https://example.com/hooks");
 */
export function webhookSecrets(config: WebhookConfig, registry: Pick<GraphRegistry, "find">): (task: Pick<TaskRecord, "graph" | "version">, url: string) => string | undefined {
  return (task, url) => endpointsOf(config, registry.find(task.graph, task.version)?.definition).find((e) => e.url === url)?.secret;
}
