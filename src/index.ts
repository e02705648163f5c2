/**
 * kaygraph: the graph runtime and the tools to serve graphs as production APIs.
 *
 * @example
 * import { Node, Graph } from "kaygraph";
 */
export * from "./graph/index.js";
export { KaygraphError, Errors, ExitCode } from "./errors.js";
export type { ErrorSpec, KaygraphErrorOptions } from "./errors.js";
export { defineGraph, isDefinition } from "./definition/define.js";
export type { GraphDefinition, GraphDefinitionSpec, GraphExample, Identity, RetryOptions, RunContextInfo, Runnable, Schema } from "./definition/define.js";
export { runDefinition, CancelledReason } from "./definition/run.js";
export type { RunDefinitionOptions } from "./definition/run.js";
export { DefinitionRunError } from "./definition/run-errors.js";
export type { RunErrorCode } from "./definition/run-errors.js";
export { loadGraphs } from "./definition/load.js";
export { GraphRegistry, parseGraphRef } from "./definition/registry.js";
export type { LoadedGraph } from "./definition/registry.js";
export { defineConfig } from "./config/schema.js";
export type { KaygraphConfig, ResolvedConfig } from "./config/schema.js";
export { loadConfig, resolveConfig } from "./config/load.js";
export type { LoadConfigOptions, LoadedConfig } from "./config/load.js";
export { toMermaid } from "./graph/mermaid.js";
export { createApp } from "./server/app.js";
export type { AppOptions } from "./server/app.js";
export { createGuard } from "./server/guard.js";
export type { Guard } from "./server/guard.js";
export { startServer } from "./server/listen.js";
export type { ServerHandle, StartServerOptions } from "./server/listen.js";
export { HttpError } from "./server/http-error.js";
export type { ErrorBody, ErrorCode } from "./server/http-error.js";
export { createTaskStore, TaskRunner, IdempotencyMismatchError, TaskConflictError, InvalidCursorError, TASK_STATUSES, isTerminalStatus } from "./tasks/index.js";
export type { TaskStore, TaskRecord, TaskStatus, TaskEvent, TaskError, SubmitTaskInput, TaskPage, TaskExecute } from "./tasks/index.js";
export { signWebhook, verifyWebhook, WebhookVerificationError, WEBHOOK_TOLERANCE_SECONDS } from "./webhooks/signature.js";
export type { WebhookHeaders, WebhookMessage, VerifyWebhookOptions } from "./webhooks/signature.js";
export { WEBHOOK_EVENTS } from "./config/webhooks.js";
export type { WebhookEndpoint, WebhookEventType, WebhookDeliverySettings } from "./config/webhooks.js";
