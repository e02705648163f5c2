/**
 * The table of settings that can come from the environment or a CLI flag. One row per setting: the config
 * path it sets, its environment variables, its flag, and how a string becomes a value. It drives the env
 * layer, the flag layer, `kaygraph config` and the README's settings table (a test keeps them in step).
 */

/** How a string (from env or argv) becomes a config value; return `undefined` to leave the setting alone. */
export type Parse = (raw: string) => unknown;

export interface SettingRow {
  /** Dotted config path, e.g. `server.port`. */
  path: string;
  /** Environment variables, highest priority first. */
  env: readonly string[];
  /** The CLI flag that sets it, if any (commands declare the flags they accept). */
  flag?: string;
  /** Flag argument name and help text, for commands that take the flag. */
  arg?: string;
  help?: string;
  parse: Parse;
  /** Redacted by `kaygraph config`. */
  secret?: boolean;
}

const str: Parse = (raw) => raw;

/** Integers stay strings when they are not numbers, so validation can name the bad value and its source. */
const num: Parse = (raw) => {
  const trimmed = raw.trim();
  return trimmed !== "" && Number.isFinite(Number(trimmed)) ? Number(trimmed) : raw;
};

const bool: Parse = (raw) => {
  const v = raw.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(v)) return true;
  if (["0", "false", "no", "off"].includes(v)) return false;
  return raw;
};

const list: Parse = (raw) =>
  raw
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

const workers: Parse = (raw) => (raw.trim() === "auto" ? "auto" : num(raw));

/** JSON text (a list of webhook endpoints); left a string when it does not parse, so validation reports it. */
const json: Parse = (raw) => {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
};

/**
 * Express `trust proxy` from a string: `true`/`false` as booleans, a number as a hop count (`1` is one proxy,
 * not "trust everyone"), anything else as a list of addresses, subnets or names (`loopback, 10.0.0.0/8`).
 */
const trustProxy: Parse = (raw) => {
  const v = raw.trim().toLowerCase();
  if (v === "true") return true;
  if (v === "false") return false;
  const n = num(raw);
  return typeof n === "number" ? n : raw.trim();
};

/** `--rate-limit <spec|off>` sets both the switch and the anonymous limit. */
export const RATE_LIMIT_ROW_PATH = "rateLimit";

/** Every setting with an env var or a flag. Settings not listed here are config-file only. */
export const SETTINGS: readonly SettingRow[] = [
  { path: "graphs", env: ["KAYGRAPH_GRAPHS"], flag: "--graphs", arg: "<dir|glob>", help: "graph definition files", parse: str },
  { path: "server.host", env: ["KAYGRAPH_HOST", "HOST"], flag: "--host", arg: "<host>", help: "interface to listen on", parse: str },
  { path: "server.port", env: ["KAYGRAPH_PORT", "PORT"], flag: "--port", arg: "<port>", help: "port to listen on (0 = any free port)", parse: num },
  { path: "server.bodyLimit", env: ["KAYGRAPH_BODY_LIMIT"], parse: (raw) => num(raw) },
  { path: "server.maxJsonDepth", env: ["KAYGRAPH_MAX_JSON_DEPTH"], parse: num },
  { path: "server.requestTimeoutMs", env: ["KAYGRAPH_REQUEST_TIMEOUT_MS"], parse: num },
  { path: "server.shutdownTimeout", env: ["KAYGRAPH_SHUTDOWN_TIMEOUT"], flag: "--shutdown-timeout", arg: "<seconds>", help: "time to drain in-flight work on shutdown", parse: num },
  { path: "server.workerTimeout", env: ["KAYGRAPH_WORKER_TIMEOUT"], flag: "--worker-timeout", arg: "<seconds>", help: "kill and replace a worker whose event loop is silent this long (0 = off)", parse: num },
  { path: "server.maxRequests", env: ["KAYGRAPH_MAX_REQUESTS"], flag: "--max-requests", arg: "<n>", help: "replace a worker after it served this many requests (0 = never)", parse: num },
  { path: "server.maxRequestsJitter", env: ["KAYGRAPH_MAX_REQUESTS_JITTER"], parse: num },
  { path: "server.maxMemoryMb", env: ["KAYGRAPH_MAX_MEMORY"], flag: "--max-memory", arg: "<mb>", help: "replace a worker whose resident memory passes this many MB (0 = no limit)", parse: num },
  { path: "server.corsOrigins", env: ["KAYGRAPH_CORS_ORIGINS"], parse: list },
  { path: "server.trustProxy", env: ["KAYGRAPH_TRUST_PROXY"], parse: trustProxy },
  { path: "server.docs", env: ["KAYGRAPH_DOCS"], parse: bool },
  { path: "server.studio", env: ["KAYGRAPH_STUDIO"], parse: bool },
  { path: "server.publicMetrics", env: ["KAYGRAPH_PUBLIC_METRICS"], parse: bool },
  { path: "server.static", env: ["KAYGRAPH_STATIC"], parse: str },
  { path: "workers", env: ["KAYGRAPH_WORKERS"], flag: "--workers", arg: "<n|auto>", help: "worker processes", parse: workers },
  { path: "auth.mode", env: ["KAYGRAPH_AUTH"], flag: "--auth", arg: "<none|jwt>", help: "authentication", parse: str },
  { path: "auth.secret", env: ["KAYGRAPH_SECRET_KEY"], parse: str, secret: true },
  { path: "auth.publicKey", env: ["KAYGRAPH_JWT_PUBLIC_KEY"], parse: str },
  { path: "auth.jwksUrl", env: ["KAYGRAPH_JWKS_URL"], parse: str },
  { path: "auth.issuer", env: ["KAYGRAPH_JWT_ISSUER"], parse: str },
  { path: "auth.audience", env: ["KAYGRAPH_JWT_AUDIENCE"], parse: str },
  { path: "auth.clockTolerance", env: ["KAYGRAPH_JWT_CLOCK_TOLERANCE"], parse: num },
  { path: "rateLimit.enabled", env: ["KAYGRAPH_RATE_LIMIT_ENABLED"], parse: bool },
  { path: "rateLimit.anonymous", env: ["KAYGRAPH_RATE_LIMIT"], flag: "--rate-limit", arg: "<spec|off>", help: "rate limits on, with this per-IP limit (e.g. 100/minute), or off", parse: str },
  { path: "rateLimit.failOpen", env: ["KAYGRAPH_RATE_LIMIT_FAIL_OPEN"], parse: bool },
  { path: "tasks.concurrency", env: ["KAYGRAPH_TASKS_CONCURRENCY"], flag: "--concurrency", arg: "<n>", help: "background tasks run at once per process (serve: 0 = run none, leave them to kaygraph worker)", parse: num },
  { path: "tasks.database", env: ["KAYGRAPH_DATABASE"], parse: str },
  { path: "tasks.leaseMs", env: ["KAYGRAPH_TASKS_LEASE_MS"], parse: num },
  { path: "tasks.retentionMs", env: ["KAYGRAPH_TASKS_RETENTION_MS"], parse: num },
  { path: "redis.url", env: ["KAYGRAPH_REDIS_URL"], flag: "--redis", arg: "<url>", help: "Redis URL: tasks, limits and events move to Redis", parse: str, secret: true },
  { path: "redis.prefix", env: ["KAYGRAPH_REDIS_PREFIX"], parse: str },
  { path: "ws.maxMessageBytes", env: ["KAYGRAPH_WS_MAX_MESSAGE_BYTES"], parse: num },
  { path: "ws.heartbeatMs", env: ["KAYGRAPH_WS_HEARTBEAT_MS"], parse: num },
  { path: "execution", env: ["KAYGRAPH_EXECUTION"], parse: str },
  { path: "threads.count", env: ["KAYGRAPH_THREADS"], parse: workers },
  { path: "threads.maxHeapMb", env: ["KAYGRAPH_THREAD_MAX_HEAP_MB"], parse: num },
  { path: "webhooks", env: ["KAYGRAPH_WEBHOOKS"], parse: json, secret: true },
  { path: "log.level", env: ["KAYGRAPH_LOG_LEVEL"], flag: "--log-level", arg: "<level>", help: "fatal, error, warn, info, debug, trace or silent", parse: str },
  { path: "log.format", env: ["KAYGRAPH_LOG_FORMAT"], flag: "--log-format", arg: "<json|pretty>", help: "log format", parse: str },
];

/** Config paths whose values are secrets (redacted in output). */
export const SECRET_PATHS: ReadonlySet<string> = new Set(SETTINGS.filter((s) => s.secret).map((s) => s.path));

/**
 * A setting's value as `kaygraph config` and config errors may show it: secrets become "(redacted)", and so
 * does the `secret` of every webhook endpoint (the list is one setting).
 *
 * @example
 * shownValue("webhooks", [{ url: "https://x", secret: "whsec_…" }]); // [{ url: "https://x", secret: "(redacted)" }]
 */
export function shownValue(key: string, value: unknown): unknown {
  if (value === undefined) return value;
  if (key === "webhooks" || key.startsWith("webhooks.")) {
    const redact = (entry: unknown): unknown => (entry !== null && typeof entry === "object" && !Array.isArray(entry) ? { ...entry, ...("secret" in entry && { secret: "(redacted)" }) } : "(redacted)");
    if (Array.isArray(value)) return value.map(redact);
    if (/^webhooks\.\d+\.(url|events)(\.|$)/.test(key)) return value;
    return /^webhooks\.\d+$/.test(key) ? redact(value) : "(redacted)";
  }
  return SECRET_PATHS.has(key) ? "(redacted)" : value;
}

/** Finds the row for a flag (`--port`). */
export function settingForFlag(flag: string): SettingRow | undefined {
  return SETTINGS.find((s) => s.flag === flag);
}
