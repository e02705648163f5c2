import { z } from "zod";
import { Errors, KaygraphError } from "../errors.js";
import { RATE_SPEC } from "../config/schema.js";
import { webhookEndpointSchema, type WebhookEndpoint } from "../config/webhooks.js";

/** Brand that marks a definition, shared by every copy of the package (Symbol.for). */
export const DEFINITION = Symbol.for("kaygraph.definition");

/** A schema kaygraph can validate with and describe in OpenAPI: a zod 4 schema. */
export type Schema = z.ZodType;

/** The caller, when auth is on. */
export interface Identity {
  sub: string;
  tier: string;
  claims: Record<string, unknown>;
}

/** What a definition's `shared(input, ctx)` mapping receives, and nodes see as `this.context`. */
export interface RunContextInfo {
  /** The caller's identity when auth is on. */
  user?: Identity;
  /** The request (or task) id, the same one as in logs and events. */
  requestId: string;
  /** The background task id, when running as a task. */
  taskId?: string;
  graph: string;
  version: number;
  /** Aborts on timeout, cancel, or a client that went away. (A getter: a spread copy of the context lacks it.) */
  signal: AbortSignal;
}

/** Anything with the runtime's `run` (a Graph or Node from any copy of kaygraph). */
export interface Runnable {
  run(shared: any, options?: Record<string, unknown>): Promise<unknown>;
}

/** An example shown in OpenAPI and the docs page. */
export interface GraphExample<I, O> {
  name?: string;
  summary?: string;
  input: I;
  output?: O;
}

/** Background-task retries of a definition: `retry: { attempts: 3, backoff: 1000 }`. */
export interface RetryOptions {
  /** Tries in all, the first run included (1 = no retry). */
  attempts: number;
  /** Base delay in ms of the exponential backoff with jitter between tries. Default 1000. */
  backoff?: number;
  /** Alias of `backoff` (give one or the other). */
  backoffMs?: number;
}

/** Default base delay (ms) of the retry backoff. */
export const DEFAULT_RETRY_BACKOFF_MS = 1000;

/**
 * The tries and backoff base (ms) of a definition's background tasks, with the alias `backoffMs` read as `backoff`.
 *
 * @example
 * resolveRetry({ attempts: 3, backoff: 500 }); // { maxAttempts: 3, backoffMs: 500 }
 * resolveRetry(undefined); // { maxAttempts: 1, backoffMs: 1000 }
 */
export function resolveRetry(retry: RetryOptions | undefined): { maxAttempts: number; backoffMs: number } {
  return { maxAttempts: retry?.attempts ?? 1, backoffMs: retry?.backoff ?? retry?.backoffMs ?? DEFAULT_RETRY_BACKOFF_MS };
}

/** What `defineGraph` accepts. */
export interface GraphDefinitionSpec<I extends Schema, O extends Schema, R extends Schema = Schema> {
  /** URL segment (letters, digits, `-`, `_`). Default: the file name. */
  name?: string;
  /** Default 1; versions of one name are served side by side at /api/v{V}/{name}. */
  version?: number;
  description?: string;
  input: I;
  output: O;
  /** A Graph/Node, or a factory called for every run (fresh state per run). */
  graph: Runnable | (() => Runnable | Promise<Runnable>);
  /** Builds the shared store from the validated input. Default: `{ input }`. */
  shared?: (input: z.output<I>, ctx: RunContextInfo) => object | Promise<object>;
  /** Reads the output from the shared store after the run. Default: `shared.output`. */
  result?: (shared: any) => z.input<O> | Promise<z.input<O>>;
  /** Per-run timeout of sync and streaming runs (ms); default from config `server.requestTimeoutMs`. */
  timeoutMs?: number;
  /** Ends runaway loops: the most node steps one run may take. */
  maxSteps?: number;
  tags?: string[];
  examples?: Array<GraphExample<z.input<I>, z.input<O>>>;
  /** Marks the routes deprecated (`Deprecation` header, OpenAPI `deprecated`). */
  deprecated?: boolean;
  /** Sunset date (ISO 8601); implies deprecated and adds a `Sunset` header. */
  sunset?: string;
  /** Served without a token when auth is on. */
  public?: boolean;
  /** Per-graph rate limit, e.g. "5/minute" (overrides the caller's tier limit for this graph). */
  rateLimit?: string;
  /** Background-task retries of failed runs (see {@link RetryOptions}). */
  retry?: RetryOptions;
  /** Per-attempt timeout of background tasks (ms); default: `timeoutMs`, else none. */
  taskTimeoutMs?: number;
  /** Where its runs execute: `thread` (contained, timeouts enforced) or `inline`; default the `execution` setting. */
  execution?: "thread" | "inline";
  /**
   * Schema of the value that resumes an interrupted run (`POST /tasks/{id}/resume`, WS `resume`,
   * `kaygraph run --resume`); a value that does not match is refused with 422. Declaring it also makes sync
   * and streaming runs snapshot the shared store between nodes, so an interrupted node resumes on the store as
   * it was before the node ran (background tasks always do).
   */
  resume?: R;
  /**
   * Background tasks store a checkpoint after every node of the top-level graph, so a crashed worker's task
   * resumes after the last completed node (default `true`). `false`: a crashed task re-runs from the start
   * (for stores that cannot round-trip through JSON; an interrupt then resumes on the store as the node left it).
   */
  checkpoint?: boolean;
  /**
   * Signed webhooks on this graph's task events, in addition to the config's `webhooks` (an endpoint with the
   * same URL as a config one replaces it for this graph). See README "Webhooks".
   */
  webhooks?: WebhookEndpoint[];
}

/** A validated definition, as returned by `defineGraph`. */
// Defaults are `any` so a specific definition is assignable to the general type (its mappings take specific inputs).
export type GraphDefinition<I extends Schema = any, O extends Schema = any, R extends Schema = Schema> = Readonly<GraphDefinitionSpec<I, O, R>> & {
  readonly [DEFINITION]: true;
};

/** Valid graph names: URL-safe path segments. */
export const GRAPH_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

const isSchema = (value: unknown): boolean =>
  value !== null && typeof value === "object" && typeof (value as { safeParse?: unknown }).safeParse === "function" && "_zod" in value;

const isRunnable = (value: unknown): boolean =>
  typeof value === "function" || (value !== null && typeof value === "object" && typeof (value as { run?: unknown }).run === "function");

const specSchema = z
  .object({
    name: z.string().regex(GRAPH_NAME, { message: "must be URL-safe: letters, digits, '-' or '_', starting with a letter or digit, at most 64 characters" }).optional(),
    version: z.number().int().min(1).optional(),
    description: z.string().optional(),
    input: z.custom(isSchema, { message: "must be a zod schema (e.g. z.object({...}))" }),
    output: z.custom(isSchema, { message: "must be a zod schema (e.g. z.object({...}))" }),
    graph: z.custom(isRunnable, { message: "must be a Graph or Node, or a function returning one" }),
    shared: z.function().optional(),
    result: z.function().optional(),
    timeoutMs: z.number().int().positive().optional(),
    maxSteps: z.number().int().positive().optional(),
    tags: z.array(z.string()).optional(),
    examples: z.array(z.object({ name: z.string().optional(), summary: z.string().optional(), input: z.unknown(), output: z.unknown().optional() })).optional(),
    deprecated: z.boolean().optional(),
    sunset: z.string().refine((s) => !Number.isNaN(Date.parse(s)), { message: "must be an ISO 8601 date" }).optional(),
    public: z.boolean().optional(),
    rateLimit: z.string().regex(RATE_SPEC, { message: 'must look like "<n>/<second|minute|hour|day>"' }).optional(),
    retry: z
      .object({ attempts: z.number().int().min(1).max(100), backoff: z.number().int().min(0).optional(), backoffMs: z.number().int().min(0).optional() })
      .strict()
      .refine((r) => r.backoff === undefined || r.backoffMs === undefined, { message: "give `backoff` or its alias `backoffMs`, not both" })
      .optional(),
    taskTimeoutMs: z.number().int().positive().optional(),
    execution: z.enum(["thread", "inline"]).optional(),
    resume: z.custom(isSchema, { message: "must be a zod schema of the resume value" }).optional(),
    checkpoint: z.boolean().optional(),
    webhooks: z.array(webhookEndpointSchema).optional(),
  })
  .strict();

/**
 * Declares a graph that kaygraph serves: its name, version, input/output schemas and the graph to run.
 * Validates its argument and returns it frozen.
 *
 * @example
 * export default defineGraph({
 *   name: "process",
 *   input: z.object({ text: z.string() }),
 *   output: z.object({ result: z.string() }),
 *   graph: () => new Graph(new Uppercase()),
 * });
 */
export function defineGraph<I extends Schema, O extends Schema, R extends Schema = Schema>(spec: GraphDefinitionSpec<I, O, R>): GraphDefinition<I, O, R> {
  const checked = specSchema.safeParse(spec);
  if (!checked.success) {
    const lines = checked.error.issues.map((issue) => {
      const key = issue.path.map(String).join(".");
      if (issue.code === "unrecognized_keys") return `unknown option(s): ${issue.keys.join(", ")}`;
      return `${key || "definition"}: ${issue.message}`;
    });
    throw new KaygraphError(Errors.DefinitionInvalid, { message: lines.join("\n"), hint: "See README.md#graph-definitions for the fields defineGraph accepts." });
  }
  return Object.freeze({ ...spec, [DEFINITION]: true as const });
}

/** True for a value made by `defineGraph` (from any copy of kaygraph). */
export function isDefinition(value: unknown): value is GraphDefinition {
  return value !== null && typeof value === "object" && (value as Record<symbol, unknown>)[DEFINITION] === true;
}
