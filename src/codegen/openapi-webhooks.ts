/**
 * The OpenAPI 3.1 `webhooks` of a project that sends them: one entry per task event, with the Standard
 * Webhooks headers and the message body (its `data` is the `Task` schema), so receivers can generate code.
 */
import { WEBHOOK_EVENTS, type WebhookEndpoint } from "../config/webhooks.js";
import type { GraphRegistry } from "../definition/registry.js";

type JsonObject = Record<string, unknown>;

const header = (name: string, description: string) => ({ name, in: "header", required: true, description, schema: { type: "string" } });

/**
 * The `webhooks` object, or undefined when neither the config nor any graph declares a webhook.
 *
 * @example
 * const webhooks = webhooksOf(registry, config.webhooks); // { "task.completed": { post: … }, … }
 */
export function webhooksOf(registry: GraphRegistry, configured: readonly WebhookEndpoint[] | undefined): JsonObject | undefined {
  const events = new Set<string>();
  const endpoints = [...(configured ?? []), ...registry.list().flatMap((g) => g.definition.webhooks ?? [])];
  for (const endpoint of endpoints) for (const event of endpoint.events ?? WEBHOOK_EVENTS) events.add(event);
  if (events.size === 0) return undefined;
  const out: JsonObject = {};
  for (const event of WEBHOOK_EVENTS.filter((e) => events.has(e))) {
    out[event] = {
      post: {
        tags: ["webhooks"],
        operationId: `webhook_${event.replace(".", "_")}`,
        summary: `Sent when a task becomes ${event.slice("task.".length)}`,
        description: "Signed per the Standard Webhooks spec; delivered at least once (dedupe by webhook-id), retried with exponential backoff.",
        parameters: [
          header("webhook-id", "The message id: the same on every retry"),
          header("webhook-timestamp", "Seconds since the epoch, at sending"),
          header("webhook-signature", 'v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>"> keyed with the base64 after whsec_'),
        ],
        requestBody: {
          required: true,
          content: {
            "application/json": {
              schema: {
                type: "object",
                required: ["type", "timestamp", "data"],
                properties: { type: { const: event }, timestamp: { type: "string", format: "date-time" }, data: { $ref: "#/components/schemas/Task" } },
              },
            },
          },
        },
        responses: { "200": { description: "Delivered (any 2xx)" }, "410": { description: "Gone: stop sending this message" } },
      },
    };
  }
  return out;
}
