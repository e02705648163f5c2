/**
 * The webhook settings: endpoints (`webhooks: [{ url, secret, events? }]`, in the config and per graph
 * definition) and how they are delivered (`webhookDelivery`). One schema for both places, so a bad endpoint is
 * the same clear error wherever it is written.
 */
import { z } from "zod";

/** The task events a webhook can subscribe to (the `type` of a delivered message). */
export const WEBHOOK_EVENTS = ["task.completed", "task.failed", "task.cancelled", "task.interrupted"] as const;

/** One of {@link WEBHOOK_EVENTS}. */
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

/** `whsec_` then standard base64 of at least 16 bytes (the Standard Webhooks secret format). */
const WHSEC = /^whsec_([A-Za-z0-9+/]+={0,2})$/;

const secret = z.string().refine(
  (value) => {
    const match = WHSEC.exec(value);
    return match !== null && (match[1] as string).length % 4 === 0 && Buffer.from(match[1] as string, "base64").length >= 16;
  },
  { message: 'must be "whsec_" followed by the base64 of at least 16 random bytes, e.g. whsec_$(openssl rand -base64 32)' },
);

const url = z.string().refine(
  (value) => {
    try {
      const parsed = new URL(value);
      return (parsed.protocol === "http:" || parsed.protocol === "https:") && parsed.hostname !== "";
    } catch {
      return false;
    }
  },
  { message: "must be an absolute http:// or https:// URL" },
);

/** One webhook endpoint: where to POST, the signing secret, and which events (default: all). */
export const webhookEndpointSchema = z
  .object({
    url,
    secret,
    events: z.array(z.enum(WEBHOOK_EVENTS, { message: `must be one of ${WEBHOOK_EVENTS.join(", ")}` })).min(1).optional(),
  })
  .strict();

/** A webhook endpoint as written in the config or a definition. */
export type WebhookEndpoint = z.input<typeof webhookEndpointSchema>;

/** The list of endpoints (`webhooks`). */
export const webhooksSchema = z.array(webhookEndpointSchema).default([]);

/** How webhooks are delivered (`webhookDelivery`). */
export const webhookDeliverySchema = z
  .object({
    /** One delivery attempt's timeout (ms): no answer by then counts as a failure and is retried. */
    timeoutMs: z.number().int().min(100).default(10_000),
    /** Delay before the first retry (ms); doubles per failed attempt (plus up to 25% jitter). */
    backoffMs: z.number().int().min(1).default(5_000),
    /** Longest delay between two attempts (ms). */
    maxBackoffMs: z.number().int().min(1).default(3_600_000),
    /** A message still undelivered this long after its event is given up (marked failed, logged). */
    maxAgeMs: z.number().int().min(1).default(24 * 3_600_000),
    /** Deliveries one process makes at once. */
    concurrency: z.number().int().min(1).max(256).default(8),
  })
  .strict()
  .prefault({});

/** Delivery settings after defaults. */
export type WebhookDeliverySettings = z.output<typeof webhookDeliverySchema>;
