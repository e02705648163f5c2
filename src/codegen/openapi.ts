import { z } from "zod";
import type { ResolvedConfig } from "../config/schema.js";
import type { GraphRegistry, LoadedGraph } from "../definition/registry.js";
import { routesOf } from "../definition/routes.js";
import { packageInfo } from "../package-info.js";
import { assertDistinctNames, compareCodeUnits, pascalName } from "./names.js";
import { webhooksOf } from "./openapi-webhooks.js";

type JsonObject = Record<string, unknown>;

/** `hello-world` v2 → `HelloWorldV2`: the prefix of a graph's schema and type names. */
export function typeName(graph: Pick<LoadedGraph, "name" | "version">): string {
  return `${pascalName(graph.name)}V${graph.version}`;
}

/** Graphs by name then version, in an order that does not depend on the machine's locale. */
export function sortedGraphs(registry: GraphRegistry): LoadedGraph[] {
  return registry.list().sort((a, b) => compareCodeUnits(a.name, b.name) || a.version - b.version);
}

/** JSON Schema (2020-12, what OpenAPI 3.1 uses) of a zod schema, as a request (`input`) or response (`output`). */
export function jsonSchemaOf(schema: z.ZodType, io: "input" | "output"): JsonObject {
  const json = z.toJSONSchema(schema, { io, target: "draft-2020-12", unrepresentable: "any" }) as JsonObject;
  delete json.$schema;
  return json;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const errorResponse = (description: string) => ({ description, content: { "application/json": { schema: ref("Error") } } });

/** Shared component schemas: the error body, task record, run event, health. */
function baseSchemas(): JsonObject {
  return {
    Error: {
      type: "object",
      required: ["error", "error_code", "request_id"],
      properties: {
        error: { type: "string" },
        error_code: { type: "string", enum: ["INVALID_JSON", "UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "METHOD_NOT_ALLOWED", "CONFLICT", "PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE", "VALIDATION_ERROR", "IDEMPOTENCY_MISMATCH", "RATE_LIMITED", "GRAPH_ERROR", "INTERNAL_ERROR", "RESOURCE_EXHAUSTED", "CHECKPOINT_FAILED", "UNAVAILABLE", "TIMEOUT"] },
        request_id: { type: "string" },
        details: {},
      },
    },
    RunMetadata: {
      type: "object",
      required: ["request_id", "graph", "version", "duration_ms"],
      properties: { request_id: { type: "string" }, graph: { type: "string" }, version: { type: "integer" }, duration_ms: { type: "number" } },
    },
    TaskAccepted: {
      type: "object",
      required: ["task_id", "status", "check_url"],
      properties: { task_id: { type: "string" }, status: { const: "pending" }, check_url: { type: "string" } },
    },
    Task: {
      type: "object",
      required: ["id", "graph", "version", "status", "created_at", "started_at", "completed_at", "attempts", "result", "error"],
      properties: {
        id: { type: "string" },
        graph: { type: "string" },
        version: { type: "integer" },
        status: { type: "string", enum: ["pending", "running", "interrupted", "completed", "failed", "cancelled"] },
        created_at: { type: "string", format: "date-time" },
        started_at: { type: ["string", "null"], format: "date-time" },
        completed_at: { type: ["string", "null"], format: "date-time" },
        attempts: { type: "integer" },
        result: {},
        error: { oneOf: [{ type: "null" }, { type: "object", properties: { error_code: { type: "string" }, message: { type: "string" } } }] },
        request_id: { type: ["string", "null"] },
        interrupt: { description: "While interrupted: the node that asked and what it asked", oneOf: [{ type: "null" }, { type: "object", required: ["node", "value"], properties: { node: { type: "string" }, value: {} } }] },
      },
    },
    InterruptedTask: {
      description: "A run that interrupted became a durable task: resume it with POST /tasks/{id}/resume",
      allOf: [ref("Task"), { type: "object", required: ["check_url"], properties: { status: { const: "interrupted" }, check_url: { type: "string" } } }],
    },
    ResumeRequest: { type: "object", required: ["value"], properties: { value: { description: "Checked by the graph's resume schema (components `<Graph>Resume`)" } } },
    TaskState: {
      type: "object",
      required: ["shared", "next_node", "step"],
      properties: { shared: { description: "The shared store at the latest checkpoint" }, next_node: { type: ["string", "null"] }, step: { type: "integer" } },
    },
    TaskList: { type: "object", required: ["tasks", "next_cursor"], properties: { tasks: { type: "array", items: ref("Task") }, next_cursor: { type: ["string", "null"] } } },
    RunEvent: {
      type: "object",
      description: "One run event: start, node_start, node_end, data, result, error or interrupt (README: event model).",
      required: ["type", "seq", "ts"],
      properties: {
        type: { type: "string", enum: ["start", "node_start", "node_end", "data", "result", "error", "interrupt"] },
        value: { description: "interrupt: what the node asked" },
        task_id: { type: "string", description: "interrupt: the task the run became" },
        seq: { type: "integer" },
        ts: { type: "integer" },
        run_id: { type: "string" },
        node: { type: "string" },
        action: { type: "string" },
        duration_ms: { type: "number" },
        chunk: {},
        result: {},
        error: { type: "string" },
        error_code: { type: "string" },
      },
    },
    Health: { type: "object", required: ["status", "service"], properties: { status: { const: "healthy" }, service: { const: "kaygraph-api" }, version: { type: "string" }, uptime_s: { type: "number" } } },
  };
}

function graphPaths(graph: LoadedGraph, auth: boolean): JsonObject {
  const def = graph.definition;
  const name = typeName(graph);
  const routes = routesOf(graph);
  const deprecated = def.deprecated === true || def.sunset !== undefined;
  const common = {
    tags: [graph.name, ...(def.tags ?? [])],
    ...(deprecated && { deprecated: true }),
    ...(auth && def.public === true && { security: [] }),
  };
  const examples = Object.fromEntries((def.examples ?? []).map((ex, i) => [ex.name ?? `example${i + 1}`, { summary: ex.summary, value: ex.input }]));
  const requestBody = {
    required: true,
    content: { "application/json": { schema: ref(`${name}Input`), ...(Object.keys(examples).length && { examples }) } },
  };
  const errors = {
    "400": errorResponse("Malformed JSON (INVALID_JSON)"),
    ...(auth && def.public !== true && { "401": errorResponse("Missing or invalid token (UNAUTHORIZED)") }),
    "413": errorResponse("Body too large (PAYLOAD_TOO_LARGE)"),
    "415": errorResponse("Body is not JSON (UNSUPPORTED_MEDIA_TYPE)"),
    "422": errorResponse("Input does not match the schema (VALIDATION_ERROR)"),
    "429": errorResponse("Rate limited (RATE_LIMITED)"),
  };
  return {
    [routes.run]: {
      post: {
        ...common,
        operationId: `run${name}`,
        summary: def.description ?? `Run ${graph.name} v${graph.version}`,
        requestBody,
        responses: {
          "200": {
            description: "The graph's output",
            content: { "application/json": { schema: { type: "object", required: ["result", "metadata"], properties: { result: ref(`${name}Output`), metadata: ref("RunMetadata") } } } },
          },
          "202": { description: "The run interrupted (this.interrupt) and became a durable task", content: { "application/json": { schema: ref("InterruptedTask") } } },
          ...errors,
          "500": errorResponse("The graph failed (GRAPH_ERROR) or its shared store cannot be checkpointed (CHECKPOINT_FAILED)"),
          "504": errorResponse("The run timed out (TIMEOUT)"),
        },
      },
    },
    [routes.async]: {
      post: {
        ...common,
        operationId: `submit${name}`,
        summary: `Run ${graph.name} v${graph.version} as a durable background task`,
        parameters: [{ name: "Idempotency-Key", in: "header", required: false, schema: { type: "string" }, description: "Same key and body → the same task" }],
        requestBody,
        responses: { "202": { description: "Task accepted", content: { "application/json": { schema: ref("TaskAccepted") } } }, ...errors, "422": errorResponse("Invalid input (VALIDATION_ERROR) or key reused with another body (IDEMPOTENCY_MISMATCH)") },
      },
    },
    [routes.stream]: {
      post: {
        ...common,
        operationId: `stream${name}`,
        summary: `Run ${graph.name} v${graph.version} and stream its events (SSE)`,
        requestBody,
        responses: { "200": { description: "text/event-stream of run events; `id:` is the event seq", content: { "text/event-stream": { schema: ref("RunEvent") } } }, ...errors },
      },
    },
  };
}

function taskPaths(): JsonObject {
  const id = { name: "id", in: "path", required: true, schema: { type: "string" } };
  return {
    "/tasks": {
      get: {
        tags: ["tasks"],
        operationId: "listTasks",
        summary: "List tasks (newest first)",
        parameters: [
          { name: "status", in: "query", schema: { type: "string", enum: ["pending", "running", "interrupted", "completed", "failed", "cancelled"] } },
          { name: "graph", in: "query", schema: { type: "string" } },
          { name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 100 } },
          { name: "cursor", in: "query", schema: { type: "string" } },
        ],
        responses: { "200": { description: "A page of tasks", content: { "application/json": { schema: ref("TaskList") } } } },
      },
    },
    "/tasks/{id}": {
      get: { tags: ["tasks"], operationId: "getTask", parameters: [id], responses: { "200": { description: "The task", content: { "application/json": { schema: ref("Task") } } }, "404": errorResponse("No such task") } },
      delete: {
        tags: ["tasks"],
        operationId: "cancelTask",
        parameters: [id],
        responses: { "200": { description: "Cancelled", content: { "application/json": { schema: ref("Task") } } }, "404": errorResponse("No such task"), "409": errorResponse("Already terminal (CONFLICT)") },
      },
    },
    "/tasks/{id}/resume": {
      post: {
        tags: ["tasks"],
        operationId: "resumeTask",
        summary: "Resume an interrupted task with a value",
        parameters: [id, { name: "Idempotency-Key", in: "header", required: false, schema: { type: "string" } }],
        requestBody: { required: true, content: { "application/json": { schema: ref("ResumeRequest") } } },
        responses: {
          "202": { description: "Resumed: pending again", content: { "application/json": { schema: ref("Task") } } },
          "404": errorResponse("No such task"),
          "409": errorResponse("Not interrupted (CONFLICT)"),
          "422": errorResponse("The value does not match the graph's resume schema (VALIDATION_ERROR), or the key was reused with another value (IDEMPOTENCY_MISMATCH)"),
        },
      },
    },
    "/tasks/{id}/state": {
      get: {
        tags: ["tasks"],
        operationId: "taskState",
        summary: "The task's latest checkpoint",
        parameters: [id],
        responses: { "200": { description: "The latest checkpoint", content: { "application/json": { schema: ref("TaskState") } } }, "404": errorResponse("No such task, or no checkpoint yet") },
      },
    },
    "/tasks/{id}/events": {
      get: {
        tags: ["tasks"],
        operationId: "taskEvents",
        parameters: [id, { name: "Last-Event-ID", in: "header", schema: { type: "string" } }, { name: "after", in: "query", schema: { type: "integer" } }],
        responses: { "200": { description: "SSE of the task's events, resumable", content: { "text/event-stream": { schema: ref("RunEvent") } } }, "404": errorResponse("No such task") },
      },
    },
  };
}

/**
 * The OpenAPI 3.1 document of a project: every graph route with request and response schemas from zod,
 * error responses, examples, deprecation, the task routes, and a bearer scheme when auth is on.
 *
 * @example
 * const doc = buildOpenApi(registry, config); // JSON.stringify(doc) is /openapi.json
 */
export function buildOpenApi(registry: GraphRegistry, config: Pick<ResolvedConfig, "auth"> & Partial<Pick<ResolvedConfig, "webhooks">>): JsonObject {
  const auth = config.auth.mode === "jwt";
  assertDistinctNames(registry.list().map((g) => g.name));
  const schemas: JsonObject = baseSchemas();
  let paths: JsonObject = {};
  for (const graph of sortedGraphs(registry)) {
    const name = typeName(graph);
    schemas[`${name}Input`] = jsonSchemaOf(graph.definition.input, "input");
    schemas[`${name}Output`] = jsonSchemaOf(graph.definition.output, "output");
    if (graph.definition.resume) schemas[`${name}Resume`] = jsonSchemaOf(graph.definition.resume, "input");
    paths = { ...paths, ...graphPaths(graph, auth) };
  }
  paths = {
    ...paths,
    ...taskPaths(),
    "/health": { get: { tags: ["service"], operationId: "health", security: [], responses: { "200": { description: "Alive", content: { "application/json": { schema: ref("Health") } } } } } },
    "/ready": { get: { tags: ["service"], operationId: "ready", security: [], responses: { "200": { description: "Ready" }, "503": errorResponse("Starting or draining") } } },
    "/metrics": { get: { tags: ["service"], operationId: "metrics", responses: { "200": { description: "Prometheus text", content: { "text/plain": { schema: { type: "string" } } } } } } },
  };
  const webhooks = webhooksOf(registry, config.webhooks);
  return {
    openapi: "3.1.0",
    info: { title: "kaygraph API", version: packageInfo().version, description: "Graph workflows served by kaygraph." },
    paths,
    ...(webhooks && { webhooks }),
    components: { schemas, ...(auth && { securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT" } } }) },
    ...(auth && { security: [{ bearerAuth: [] }] }),
  };
}
