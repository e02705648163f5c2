/**
 * The WebSocket protocol of `/ws/{client_id}` (DESIGN.md section 5): what a client may send, and the
 * server's own messages besides the run and task events (which it sends as they are, plus the client's `id`).
 */
import { z } from "zod";
import type { ErrorCode } from "../http-error.js";
import { exceedsJsonDepth, JsonTooDeepError } from "../json-depth.js";

const messageId = z.string().min(1).max(256);

const runMessage = z.object({
  type: z.literal("run"),
  id: messageId,
  graph: z.string().min(1),
  /** Left out: the graph's highest version. */
  version: z.number().int().min(1).optional(),
  /** Left out: `{}`. */
  input: z.unknown().optional(),
});

const subscribeMessage = z.object({
  type: z.literal("subscribe"),
  id: messageId,
  task_id: z.string().min(1).max(256),
  /** Resume after this seq (the last event the client has); default 0 = from the start. */
  after_seq: z.number().int().min(0).optional(),
});

const resumeMessage = z.object({
  type: z.literal("resume"),
  id: messageId,
  task_id: z.string().min(1).max(256),
  /** The answer to the task's interrupt (checked by the graph's `resume` schema). */
  value: z.unknown(),
});

const cancelMessage = z.object({ type: z.literal("cancel"), id: messageId });
const pingMessage = z.object({ type: z.literal("ping"), id: messageId.optional() });

/** The message types a client may send. */
export const CLIENT_MESSAGE_TYPES = ["run", "subscribe", "resume", "cancel", "ping"] as const;

const clientMessage = z.discriminatedUnion("type", [runMessage, subscribeMessage, resumeMessage, cancelMessage, pingMessage]);

/** A valid client message. */
export type ClientMessage = z.infer<typeof clientMessage>;
export type RunMessage = z.infer<typeof runMessage>;
export type SubscribeMessage = z.infer<typeof subscribeMessage>;
export type ResumeMessage = z.infer<typeof resumeMessage>;

/** A protocol error: not a run's `error` event (those carry a `seq`), an answer to one client message. */
export interface ErrorMessage {
  type: "error";
  id?: string;
  error: string;
  error_code: ErrorCode;
  details?: unknown;
}

/**
 * A protocol error message, `id` echoed when the client sent one.
 *
 * @example
 * errorMessage("m1", "NOT_FOUND", "No graph named \"nope\".");
 */
export function errorMessage(id: string | undefined, code: ErrorCode, error: string, details?: unknown): ErrorMessage {
  const message: ErrorMessage = { type: "error", error, error_code: code };
  if (id !== undefined) message.id = id;
  if (details !== undefined) message.details = details;
  return message;
}

/**
 * Parses one client frame: malformed JSON, or JSON whose payload nests deeper than `maxJsonDepth`, is
 * `INVALID_JSON`; an object of an unknown type or shape is
 * `VALIDATION_ERROR` with the zod issues. The error echoes the frame's `id` when it has a usable one.
 *
 * @example
 * const parsed = parseClientMessage('{"type":"ping","id":"p1"}'); // { ok: true, message: { type: "ping", id: "p1" } }
 */
export function parseClientMessage(text: string, maxJsonDepth = 64): { ok: true; message: ClientMessage } | { ok: false; error: ErrorMessage } {
  // The message object itself is one level: the limit applies to what it carries (a run's input).
  if (exceedsJsonDepth(text, maxJsonDepth + 1)) {
    return { ok: false, error: errorMessage(undefined, "INVALID_JSON", new JsonTooDeepError(maxJsonDepth).message, { max_depth: maxJsonDepth }) };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return { ok: false, error: errorMessage(undefined, "INVALID_JSON", `The message is not valid JSON: ${(error as Error).message}`) };
  }
  const id = typeof raw === "object" && raw !== null && typeof (raw as { id?: unknown }).id === "string" ? (raw as { id: string }).id.slice(0, 256) : undefined;
  const type = typeof raw === "object" && raw !== null ? (raw as { type?: unknown }).type : undefined;
  if (typeof type !== "string" || !(CLIENT_MESSAGE_TYPES as readonly string[]).includes(type)) {
    const shown = typeof type === "string" ? `"${type.slice(0, 64)}"` : "missing";
    return { ok: false, error: errorMessage(id, "VALIDATION_ERROR", `Unknown message type (${shown}); send one of ${CLIENT_MESSAGE_TYPES.join(", ")} as {"type", "id", …}.`) };
  }
  const parsed = clientMessage.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.map(String).join(".") || "(message)"}: ${i.message}`).join("; ");
    return { ok: false, error: errorMessage(id, "VALIDATION_ERROR", `Invalid ${type} message: ${issues}`, parsed.error.issues) };
  }
  return { ok: true, message: parsed.data };
}
