/**
 * One Redis subscriber connection per store, shared by every live subscription of the process (task
 * events, cancel requests). ioredis re-subscribes after a reconnect; messages published while disconnected
 * are lost, which is why subscribers also re-read stored events on a timer (see EventFeed).
 */
import type { Redis } from "ioredis";

type Handler = (message: string) => void;

/**
 * Channel fan-out over one connection.
 *
 * @example
 * const off = await pubsub.on("kaygraph:ch:cancel", (id) => abort(id));
 */
export class RedisPubSub {
  private client: Redis | undefined;
  private readonly channels = new Map<string, { handlers: Set<Handler>; ready: Promise<unknown> }>();

  constructor(
    private readonly base: Redis,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Calls `handler` for each message on `channel`; resolves (with the remover) once Redis confirmed the subscription. */
  async on(channel: string, handler: Handler): Promise<() => void> {
    const client = this.connect();
    let entry = this.channels.get(channel);
    if (entry === undefined) {
      const ready = client.subscribe(channel).catch((error: unknown) => {
        // Let the next subscriber try again instead of inheriting this failure.
        if (this.channels.get(channel)?.ready === ready) this.channels.delete(channel);
        throw error;
      });
      entry = { handlers: new Set(), ready };
      this.channels.set(channel, entry);
    }
    const { handlers } = entry;
    handlers.add(handler);
    await entry.ready;
    return () => {
      handlers.delete(handler);
      if (handlers.size > 0 || this.channels.get(channel)?.handlers !== handlers) return;
      this.channels.delete(channel);
      client.unsubscribe(channel).catch(this.onError);
    };
  }

  async close(): Promise<void> {
    this.channels.clear();
    await this.client?.quit();
  }

  private connect(): Redis {
    if (this.client) return this.client;
    // Subscriptions may start before this connection is up (and must survive reconnects): they queue, unlike
    // the base connection's calls, which fail fast while Redis is away.
    // Neither the base's per-call bounds: a subscribe waits for the connection instead of failing at once.
    const client = (this.client = this.base.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null, commandTimeout: undefined }));
    client.on("error", this.onError);
    client.on("message", (channel: string, message: string) => {
      for (const handler of [...(this.channels.get(channel)?.handlers ?? [])]) {
        try {
          handler(message);
        } catch (error) {
          // One bad message or handler must not stop delivery to the others (or crash the connection's emitter).
          this.onError(error);
        }
      }
    });
    return client;
  }
}
