/**
 * The package entry as graph code sees it inside a run thread (`execution: "thread"`): a run thread resolves
 * `import … from "kaygraph"` here instead of index.ts (see runs/threads/resolve-hook.ts). Same export names
 * (a unit test keeps them equal), same modules, so `instanceof` and singletons behave as in the process; but
 * the HTTP server's modules (Express, WebSocket, auth, rate limits, metrics, tracing) load only if graph code
 * calls one of the server functions, so a thread starts lighter. Types come from index.ts.
 */
export * from "./graph/index.js";
export { KaygraphError, Errors, ExitCode } from "./errors.js";
export { defineGraph, isDefinition } from "./definition/define.js";
export { runDefinition, CancelledReason } from "./definition/run.js";
export { DefinitionRunError } from "./definition/run-errors.js";
export { loadGraphs } from "./definition/load.js";
export { GraphRegistry, parseGraphRef } from "./definition/registry.js";
export { defineConfig } from "./config/schema.js";
export { loadConfig, resolveConfig } from "./config/load.js";
export { toMermaid } from "./graph/mermaid.js";
export { HttpError } from "./server/http-error.js";
export { createTaskStore, TaskRunner, IdempotencyMismatchError, TaskConflictError, InvalidCursorError, TASK_STATUSES, isTerminalStatus } from "./tasks/index.js";
export { signWebhook, verifyWebhook, WebhookVerificationError, WEBHOOK_TOLERANCE_SECONDS } from "./webhooks/signature.js";
export { WEBHOOK_EVENTS } from "./config/webhooks.js";

type Index = typeof import("./index.js");

/** Loaded on first call. */
export const startServer: Index["startServer"] = async (...args) => (await import("./server/listen.js")).startServer(...args);

/** Loaded on first call. */
export const createGuard: Index["createGuard"] = async (...args) => (await import("./server/guard.js")).createGuard(...args);

/** Synchronous, so it cannot load the server on demand: build apps outside the graph's run thread. */
export const createApp: Index["createApp"] = () => {
  throw new Error('createApp() is not available to graph code in a run thread (execution: "thread"): create the app in your own process, or set execution: "inline" for this graph.');
};
