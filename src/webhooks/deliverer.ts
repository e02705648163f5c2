/**
 * The background deliverer of webhook messages: claims due messages from the task store's outbox (leased, so
 * two processes never send the same message at once), signs and POSTs each one, and settles it: delivered
 * (2xx), retried with exponential backoff (any other answer, a timeout or a network error), or given up
 * (410 Gone, or still failing `maxAgeMs` after the event). It never blocks a run: transitions only write the
 * outbox, and this loop works through it on its own.
 */
import type { WebhookDeliverySettings } from "../config/webhooks.js";
import type { TaskRecord, TaskStore, WebhookDelivery, WebhookSettlement } from "../tasks/types.js";
import { createPostAgents, postWebhook, type PostAgents } from "./post.js";
import { signWebhook } from "./signature.js";

/** How one attempt ended, as counted by `kaygraph_webhook_deliveries_total{outcome}`. */
export type DeliveryOutcome = "delivered" | "retry" | "failed";

/** The logger calls the deliverer makes (pino's shape). */
export interface DelivererLog {
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
  debug(fields: object, message: string): void;
}

/** Options of a {@link WebhookDeliverer}. */
export interface WebhookDelivererOptions {
  settings: WebhookDeliverySettings;
  /** The secret of a task's endpoint (undefined: no longer configured, the message fails). */
  secretFor(task: TaskRecord, url: string): string | undefined;
  /** Shapes the record as `GET /tasks/{id}` shows it (default: as stored). */
  publicTask?: (task: TaskRecord) => TaskRecord;
  log?: DelivererLog;
  /** Called once per attempt (metrics). */
  onOutcome?: (outcome: DeliveryOutcome) => void;
  /** Longest sleep when nothing is due and no wake-up came (default 1000 ms). */
  pollMs?: number;
  /** `User-Agent` of the requests. */
  userAgent?: string;
  /** Jitter source, for tests. */
  random?: () => number;
}

const QUIET: DelivererLog = { warn: () => undefined, error: () => undefined, debug: () => undefined };

/** The URL without query or credentials, for logs (a query may carry a token). */
function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return "(invalid url)";
  }
}

/**
 * The delay before retry number `attempts` (1 = after the first failure): `backoffMs` doubled per attempt,
 * at most `maxBackoffMs`, plus up to 25% jitter.
 *
 * @example
 * webhookBackoff(3, { backoffMs: 5000, maxBackoffMs: 3_600_000 }, () => 0); // 20000
 */
export function webhookBackoff(attempts: number, settings: Pick<WebhookDeliverySettings, "backoffMs" | "maxBackoffMs">, random: () => number = Math.random): number {
  const base = Math.min(settings.maxBackoffMs, settings.backoffMs * 2 ** Math.min(Math.max(0, attempts - 1), 40));
  return Math.round(base * (1 + 0.25 * random()));
}

/**
 * Delivers the outbox of a task store until stopped.
 *
 * @example
 * const deliverer = new WebhookDeliverer(store, { settings: config.webhookDelivery, secretFor: webhookSecrets(config, registry) });
 * deliverer.start();
 * await deliverer.stop();
 */
export class WebhookDeliverer {
  private readonly active = new Set<Promise<void>>();
  private readonly log: DelivererLog;
  private stopping: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private hinted = false;
  private offHint: (() => void) | undefined;
  /** The keep-alive agents of the current start (destroyed by stop). */
  private agents: PostAgents | undefined;

  constructor(
    private readonly store: TaskStore,
    private readonly options: WebhookDelivererOptions,
  ) {
    this.log = options.log ?? QUIET;
  }

  /** A claim lasts one attempt's timeout plus a margin: a killed deliverer's messages are due again after it. */
  get leaseMs(): number {
    return this.options.settings.timeoutMs + 5_000;
  }

  /** Starts delivering. Calling it while started does nothing. */
  start(): void {
    if (this.loop) return;
    const stopping = (this.stopping = new AbortController());
    const agents = (this.agents = createPostAgents(this.options.settings.concurrency));
    this.offHint = this.store.onWebhooks(() => this.hint());
    this.loop = this.run(stopping.signal, agents);
  }

  /** Stops claiming and waits for the attempts in flight (each bounded by `timeoutMs`). */
  async stop(): Promise<void> {
    if (!this.loop || !this.stopping) return;
    this.stopping.abort();
    this.offHint?.();
    this.wake?.();
    await this.loop;
    await Promise.all([...this.active]);
    this.agents?.destroy();
    this.loop = undefined;
  }

  private hint(): void {
    this.hinted = true;
    this.wake?.();
  }

  private async run(signal: AbortSignal, agents: PostAgents): Promise<void> {
    const { concurrency } = this.options.settings;
    const pollMs = this.options.pollMs ?? 1_000;
    while (!signal.aborted) {
      const free = concurrency - this.active.size;
      // Every slot busy: wait for one to end (each attempt wakes the loop when it settles).
      if (free <= 0) {
        await this.sleep(pollMs);
        continue;
      }
      this.hinted = false;
      let waitMs = pollMs;
      try {
        // One round trip: the claim also says when the next message is due.
        const { deliveries, nextDueIn } = await this.store.claimWebhooks(free, this.leaseMs);
        for (const delivery of deliveries) this.launch(delivery, agents);
        if (deliveries.length === free) continue; // maybe more are due
        if (nextDueIn !== null) waitMs = Math.min(waitMs, Math.max(nextDueIn, 5));
      } catch (error) {
        if (signal.aborted) return;
        this.log.warn({ err: error }, "webhook outbox unreachable");
      }
      // A wake-up that came in while claiming: look again at once (the next pass resets it, so no spin).
      if (!this.hinted && !signal.aborted) await this.sleep(waitMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(), ms);
      this.wake = () => {
        this.wake = undefined;
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private launch(delivery: WebhookDelivery, agents: PostAgents): void {
    const attempt = this.attempt(delivery, agents)
      .catch((error: unknown) => this.log.error({ err: error, webhook_id: delivery.id }, "webhook delivery bookkeeping failed"))
      .finally(() => {
        this.active.delete(attempt);
        this.wake?.();
      });
    this.active.add(attempt);
  }

  private async attempt(delivery: WebhookDelivery, agents: PostAgents): Promise<void> {
    const { settings } = this.options;
    const fields = { webhook_id: delivery.id, type: delivery.type, task_id: delivery.task.id, url: shownUrl(delivery.url), attempt: delivery.attempts };
    const secret = this.options.secretFor(delivery.task, delivery.url);
    if (secret === undefined) return this.settle(delivery, { outcome: "failed", error: "endpoint no longer configured" }, fields);
    const failure = await this.send(delivery, secret, agents);
    if (failure === undefined) return this.settle(delivery, { outcome: "delivered" }, fields);
    if (failure.gone) return this.settle(delivery, { outcome: "failed", error: failure.error }, fields);
    const delayMs = webhookBackoff(delivery.attempts, settings, this.options.random);
    if (Date.now() + delayMs - delivery.ts > settings.maxAgeMs) {
      return this.settle(delivery, { outcome: "failed", error: `gave up after ${delivery.attempts} attempt(s): ${failure.error}` }, fields);
    }
    return this.settle(delivery, { outcome: "retry", delayMs, error: failure.error }, fields);
  }

  /** One POST; undefined when delivered, else why not (and whether the receiver said 410 Gone). */
  private async send(delivery: WebhookDelivery, secret: string, agents: PostAgents): Promise<{ error: string; gone?: boolean } | undefined> {
    const task = this.options.publicTask?.(delivery.task) ?? delivery.task;
    const body = JSON.stringify({ type: delivery.type, timestamp: new Date(delivery.ts).toISOString(), data: task });
    const headers = { ...signWebhook(secret, delivery.id, body), "content-type": "application/json", ...(this.options.userAgent && { "user-agent": this.options.userAgent }) };
    const result = await postWebhook(agents, delivery.url, headers, body, this.options.settings.timeoutMs);
    if ("error" in result) return { error: result.error };
    // A redirect is not a delivery either: receivers answer 2xx at the configured URL.
    if (result.status >= 200 && result.status < 300) return undefined;
    return { error: `HTTP ${result.status}`, gone: result.status === 410 };
  }

  private async settle(delivery: WebhookDelivery, settlement: WebhookSettlement, fields: Record<string, unknown>): Promise<void> {
    const settled = await this.store.settleWebhook(delivery, settlement);
    // Lost lease: another deliverer has the message now (this attempt may still have reached the receiver).
    if (!settled) return this.log.warn(fields, "webhook delivery lease lost");
    this.options.onOutcome?.(settlement.outcome);
    if (settlement.outcome === "delivered") this.log.debug(fields, "webhook delivered");
    else if (settlement.outcome === "retry") this.log.warn({ ...fields, error: settlement.error, retry_in_ms: settlement.delayMs }, "webhook delivery failed, will retry");
    else this.log.error({ ...fields, error: settlement.error }, "webhook delivery given up");
  }
}
