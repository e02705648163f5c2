import proxyAddr from "proxy-addr";
import { z } from "zod";
import { webhookDeliverySchema, webhooksSchema } from "./webhooks.js";

/** `<n>/<second|minute|hour|day>`, e.g. `100/minute`. */
export const RATE_SPEC = /^(\d+)\s*\/\s*(second|minute|hour|day)$/;

const rateSpec = z.string().trim().regex(RATE_SPEC, { message: 'must look like "<n>/<second|minute|hour|day>", e.g. "100/minute"' });

const port = z.number().int().min(0).max(65535);

/** A `trust proxy` list as Express reads it ("loopback, 10.0.0.0/8"): valid when proxy-addr can compile it. */
const trustedProxies = z
  .string()
  .min(1)
  .refine(
    (value) => {
      try {
        proxyAddr.compile(value.split(",").map((part) => part.trim()));
        return true;
      } catch {
        return false;
      }
    },
    { message: 'must be true, false, a hop count, or comma-separated addresses/subnets ("loopback", "linklocal", "uniquelocal" or e.g. "10.0.0.0/8")' },
  );

/** Byte sizes: a number of bytes or a string like "1mb", "512kb". */
const byteSize = z.union([z.number().int().positive(), z.string().trim().regex(/^\d+(\.\d+)?\s*(b|kb|mb|gb)?$/i, { message: 'must be bytes or a size like "1mb"' })]);

const logLevel = z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]);

/** Server settings. */
const serverSchema = z
  .object({
    host: z.string().min(1).default("0.0.0.0"),
    port: port.default(8000),
    /** Largest accepted JSON body. */
    bodyLimit: byteSize.default("1mb"),
    /** Deepest nesting of objects and arrays accepted in JSON input (bodies, WebSocket messages): 400 INVALID_JSON beyond. */
    maxJsonDepth: z.number().int().min(1).max(10_000).default(64),
    /** Default per-run timeout of sync and streaming runs (a definition's `timeoutMs` wins). */
    requestTimeoutMs: z.number().int().positive().default(30_000),
    /** Seconds to drain in-flight work on SIGTERM/SIGINT before exiting. */
    shutdownTimeout: z.number().positive().default(30),
    /** Seconds a worker's main event loop may stay silent before the primary kills and replaces it (0 = off). */
    workerTimeout: z.number().min(0).default(30),
    /** Requests a worker serves before it is replaced by a rolling restart (0 = never). */
    maxRequests: z.number().int().min(0).default(0),
    /** Up to this many requests are added at random to each worker's `maxRequests`, so workers do not all recycle at once. */
    maxRequestsJitter: z.number().int().min(0).default(0),
    /** Resident memory (MB) past which a worker is replaced by a rolling restart (0 = no limit). */
    maxMemoryMb: z.number().min(0).default(0),
    /** Browser origins allowed by CORS; empty = CORS closed. `"*"` allows any. */
    corsOrigins: z.array(z.string().min(1)).default([]),
    /** Express `trust proxy`: false, true, a hop count, or a list of addresses/subnets. */
    trustProxy: z.union([z.boolean(), z.number().int().min(0), trustedProxies]).default(false),
    /** Serve `/docs` and `/openapi.json`. */
    docs: z.boolean().default(true),
    /** Serve the studio page at `/_kaygraph/` (on in `kaygraph dev`; its data routes need the API's auth). */
    studio: z.boolean().default(false),
    /** Answer `/metrics` without a token when auth is on. */
    publicMetrics: z.boolean().default(false),
    /** A folder of static files (a page, its scripts) served at `/` for GET requests no route answers. */
    static: z.string().min(1).optional(),
  })
  .strict()
  .prefault({});

/** JWT auth settings. */
const authSchema = z
  .object({
    mode: z.enum(["none", "jwt"]).default("none"),
    /** HS256 secret, at least 32 bytes (usually from KAYGRAPH_SECRET_KEY). */
    secret: z.string().optional(),
    /** An asymmetric public key: PEM text (SPKI or certificate) or a JWK object. */
    publicKey: z.union([z.string().min(1), z.record(z.string(), z.unknown())]).optional(),
    /** A JWKS URL (keys are fetched and cached). */
    jwksUrl: z.url().optional(),
    /** Allowed algorithms; by default pinned from the key type (HS256 for a secret). */
    algorithms: z.array(z.string().min(1)).optional(),
    issuer: z.union([z.string().min(1), z.array(z.string().min(1))]).optional(),
    audience: z.union([z.string().min(1), z.array(z.string().min(1))]).optional(),
    /** Seconds of clock skew tolerated on `exp`/`nbf`. */
    clockTolerance: z.number().min(0).default(30),
  })
  .strict()
  .prefault({});

/** Rate-limit settings. */
const rateLimitSchema = z
  .object({
    enabled: z.boolean().default(false),
    /** Limit of anonymous callers, per client IP. */
    anonymous: rateSpec.default("100/minute"),
    /** Limits of authenticated callers by the `tier` claim; unknown tiers use `free`. */
    tiers: z.record(z.string(), rateSpec).default({ free: "10/minute", basic: "100/minute", premium: "1000/minute" }),
    /** When the limit store is down: false = answer 503 (fail closed), true = let requests through. */
    failOpen: z.boolean().default(false),
    /** SQLite file of the embedded counters (shared by every worker on the machine; Redis replaces it). */
    database: z.string().min(1).default(".kaygraph/ratelimit.db"),
  })
  .strict()
  .prefault({});

/** Background-task settings. */
const tasksSchema = z
  .object({
    /** Tasks one process runs at once; 0 = this server accepts and serves tasks but runs none (`kaygraph worker` does). */
    concurrency: z.number().int().min(0).default(4),
    /** SQLite database of the embedded store (relative to the project). */
    database: z.string().min(1).default(".kaygraph/kaygraph.db"),
    /** How long a claim holds without renewal before the task goes back to pending. */
    leaseMs: z.number().int().min(500).default(30_000),
    /** Times a task may be lost by a dying worker before it fails with `worker_lost`. */
    maxLost: z.number().int().min(1).default(3),
    /** Terminal tasks older than this are pruned. */
    retentionMs: z.number().int().positive().default(7 * 24 * 3600 * 1000),
    /** Interrupted tasks not resumed for this long are pruned (they wait for a person: a longer default). */
    interruptedRetentionMs: z.number().int().positive().default(30 * 24 * 3600 * 1000),
    /** At most this many terminal tasks are kept. */
    maxRetained: z.number().int().positive().default(100_000),
    /** How often each task runner prunes (retention). */
    pruneIntervalMs: z.number().int().min(100).default(60_000),
    /** How long an Idempotency-Key is remembered. */
    idempotencyTtlMs: z.number().int().positive().default(24 * 3600 * 1000),
  })
  .strict()
  .prefault({});

/** Redis (scale-out) settings. */
const redisSchema = z
  .object({
    /** redis:// URL; set to move tasks, limits and events to Redis. */
    url: z.string().regex(/^rediss?:\/\//, { message: "must be a redis:// or rediss:// URL" }).optional(),
    /** Key prefix, so several projects can share one Redis. */
    prefix: z.string().min(1).default("kaygraph"),
  })
  .strict()
  .prefault({});

/** WebSocket settings. */
const wsSchema = z
  .object({
    maxMessageBytes: z.number().int().positive().default(64 * 1024),
    heartbeatMs: z.number().int().positive().default(30_000),
    /** Client messages per second per connection before closing with 1008. */
    messagesPerSecond: z.number().int().positive().default(50),
    /** Bytes buffered for a slow client before closing with 1013. */
    maxBufferedBytes: z.number().int().positive().default(4 * 1024 * 1024),
    /** Open connections per client id. */
    maxConnectionsPerClient: z.number().int().positive().default(8),
    /** Runs and subscriptions in flight at once on one connection (more are refused with RATE_LIMITED). */
    maxOperationsPerConnection: z.number().int().positive().default(64),
  })
  .strict()
  .prefault({});

/** Logging settings. */
const logSchema = z
  .object({
    level: logLevel.default("info"),
    /** `json` (one object per line) or `pretty` (human, used by `dev`). */
    format: z.enum(["json", "pretty"]).default("json"),
  })
  .strict()
  .prefault({});

/** The worker threads that run graphs (`execution: "thread"`), one pool per server or worker process. */
const threadsSchema = z
  .object({
    /** Threads per process: a number or `auto` (one per CPU, at least 2, at most 8). */
    count: z.union([z.number().int().min(1).max(256), z.literal("auto")]).default("auto"),
    /** Heap limit of each thread (MB): a run that exhausts it ends RESOURCE_EXHAUSTED and its thread is replaced. */
    maxHeapMb: z.number().int().min(16).default(512),
    /** After a run's timeout or cancel, how long it gets to end by itself before its thread is terminated (ms). */
    killGraceMs: z.number().int().min(0).default(1000),
  })
  .strict()
  .prefault({});

/** Every kaygraph setting, with its default. */
export const configSchema = z
  .object({
    /** Graph definition files: a directory (relative to the project) or a glob. */
    graphs: z.string().min(1).default("graphs"),
    server: serverSchema,
    /** Worker processes of `serve`: a number or `auto` (one per CPU). */
    workers: z.union([z.number().int().min(1), z.literal("auto")]).default(1),
    auth: authSchema,
    rateLimit: rateLimitSchema,
    tasks: tasksSchema,
    redis: redisSchema,
    ws: wsSchema,
    log: logSchema,
    /** Where runs execute: `thread` (worker threads: timeouts, cancels and memory enforced) or `inline`. */
    execution: z.enum(["thread", "inline"]).default("thread"),
    threads: threadsSchema,
    /** Signed webhooks on task events (see README "Webhooks"); graph definitions can add their own. */
    webhooks: webhooksSchema,
    /** How webhooks are delivered: attempt timeout, backoff, give-up age, concurrency. */
    webhookDelivery: webhookDeliverySchema,
  })
  .strict();

/** What a user writes in kaygraph.config.ts (every key optional). */
export type KaygraphConfig = z.input<typeof configSchema>;

/** Settings after defaults and validation, plus where the project is. Frozen. */
export type ResolvedConfig = Readonly<
  z.output<typeof configSchema> & {
    /** Absolute project directory. */
    root: string;
    /** Absolute path of the config file, if one was loaded. */
    configFile: string | undefined;
  }
>;

/**
 * Typed identity for `kaygraph.config.ts`.
 *
 * @example
 * export default defineConfig({ server: { port: 8080 }, rateLimit: { enabled: true } });
 */
export function defineConfig(config: KaygraphConfig): KaygraphConfig {
  return config;
}
