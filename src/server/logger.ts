import pino, { type Logger } from "pino";
import type { ResolvedConfig } from "../config/schema.js";
import { activeTraceFields } from "../tracing/log-fields.js";

/** Paths never written to logs. */
export const REDACT = ["req.headers.authorization", "req.headers.cookie", "req.query.token", 'req.headers["sec-websocket-protocol"]'];

/**
 * The process logger: JSON lines to stdout (`serve`), or human-readable lines (`dev`, `log.format: pretty`).
 *
 * @example
 * const log = createLogger(config.log); log.info({ port }, "listening");
 */
export function createLogger(log: ResolvedConfig["log"], options: { destination?: pino.DestinationStream } = {}): Logger {
  // trace_id and span_id join every line written while a span is active (see README, Tracing).
  const base = { level: log.level, redact: { paths: REDACT, censor: "[redacted]" }, base: { pid: process.pid }, mixin: activeTraceFields };
  if (options.destination) return pino(base, options.destination);
  if (log.format === "pretty") {
    return pino({ ...base, transport: { target: "pino-pretty", options: { destination: 1, translateTime: "HH:MM:ss.l", ignore: "pid,hostname", singleLine: true } } });
  }
  return pino(base, pino.destination({ fd: 1, sync: false }));
}
