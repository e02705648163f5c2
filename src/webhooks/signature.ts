/**
 * Standard Webhooks signatures: `webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`,
 * keyed with the bytes of the base64 part of a `whsec_…` secret. Receivers verify with {@link verifyWebhook}
 * (or any Standard Webhooks library).
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { WebhookEventType } from "../config/webhooks.js";
import type { TaskRecord } from "../tasks/types.js";

/** The headers of a signed webhook request (a type, not an interface: it passes as a plain header record). */
export type WebhookHeaders = {
  "webhook-id": string;
  /** Seconds since the epoch, as a decimal string. */
  "webhook-timestamp": string;
  /** Space-separated `v1,<base64>` signatures. */
  "webhook-signature": string;
};

/** Accepted clock difference between sender and receiver by default (the spec's 5 minutes). */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

/** The HMAC key of a `whsec_<base64>` secret (a secret without the prefix is read as base64 too). */
function keyOf(secret: string): Buffer {
  const key = Buffer.from(secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret, "base64");
  if (key.length === 0) throw new TypeError("webhook secret must be whsec_<base64>");
  return key;
}

function sign(key: Buffer, id: string, timestamp: string, body: string): string {
  return createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest("base64");
}

/**
 * Signs a webhook body: the three headers to send with it. `timestamp` is in seconds (default: now).
 *
 * @example
 * const headers = signWebhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_1", JSON.stringify(body));
 * await fetch(url, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: JSON.stringify(body) });
 */
export function signWebhook(secret: string, id: string, body: string, timestamp: number = Math.floor(Date.now() / 1000)): WebhookHeaders {
  const seconds = String(Math.floor(timestamp));
  return { "webhook-id": id, "webhook-timestamp": seconds, "webhook-signature": `v1,${sign(keyOf(secret), id, seconds, body)}` };
}

/** Options of {@link verifyWebhook}. */
export interface VerifyWebhookOptions {
  /** Seconds the timestamp may differ from now (replay protection); default 300. */
  toleranceSeconds?: number;
  /** The receiver's clock, in seconds (for tests). */
  now?: number;
}

/**
 * Verifies a received webhook: the signature (any `v1` entry, compared in constant time) over the raw body
 * exactly as received, and a timestamp within the tolerance. Returns the parsed body; throws a
 * `WebhookVerificationError` otherwise. Headers may be a plain object, a `Headers`, or Node's
 * `IncomingHttpHeaders`.
 *
 * @example
 * // express: app.post("/hooks", express.text({ type: "*\/*" }), (req, res) => {
 * const message = verifyWebhook(process.env.WEBHOOK_SECRET!, req.headers, req.body);
 * if (seen.has(req.headers["webhook-id"])) return res.sendStatus(200); // at least once: dedupe by webhook-id
 * console.log(message.type, message.data.id, message.data.status);
 */
export function verifyWebhook<T = WebhookMessage>(secret: string, headers: Headers | Record<string, string | string[] | undefined>, body: string | Buffer, options: VerifyWebhookOptions = {}): T {
  const read = (name: string): string | undefined => {
    const value = typeof (headers as Headers).get === "function" ? (headers as Headers).get(name) : (headers as Record<string, string | string[] | undefined>)[name];
    return Array.isArray(value) ? value[0] : (value ?? undefined);
  };
  const id = read("webhook-id");
  const timestamp = read("webhook-timestamp");
  const signatures = read("webhook-signature");
  if (!id || !timestamp || !signatures) throw new WebhookVerificationError("missing webhook-id, webhook-timestamp or webhook-signature header");
  if (!/^\d+$/.test(timestamp)) throw new WebhookVerificationError("invalid webhook-timestamp");
  const now = options.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - Number(timestamp)) > (options.toleranceSeconds ?? WEBHOOK_TOLERANCE_SECONDS)) throw new WebhookVerificationError("webhook-timestamp is too old or too new");
  const text = typeof body === "string" ? body : body.toString("utf8");
  const expected = Buffer.from(sign(keyOf(secret), id, timestamp, text), "base64");
  const matches = signatures.split(" ").some((entry) => {
    const [version, value] = entry.split(",", 2);
    if (version !== "v1" || value === undefined) return false;
    const given = Buffer.from(value, "base64");
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!matches) throw new WebhookVerificationError("no matching signature");
  return JSON.parse(text) as T;
}

/** Thrown by {@link verifyWebhook} for a request that is not authentic (answer it 400/401). */
export class WebhookVerificationError extends Error {
  readonly code = "WEBHOOK_INVALID";
  constructor(message: string) {
    super(message);
    this.name = "WebhookVerificationError";
  }
}

/**
 * A delivered message's body.
 *
 * @example
 * { type: "task.completed", timestamp: "2026-12-07T05:00:00.000Z", data: { id: "9b1…", status: "completed", result: { … }, … } }
 */
export interface WebhookMessage<Data = TaskRecord> {
  type: WebhookEventType;
  /** When the event happened (ISO 8601). */
  timestamp: string;
  /** The task record as `GET /tasks/{id}` answers it, at the time of the event. */
  data: Data;
}
