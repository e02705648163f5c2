/**
 * One socket write per event-loop turn on a Redis connection, instead of one per command. ioredis writes each
 * command to its socket as it is sent; on a busy worker (every submit, claim, event write and BullMQ job move
 * of the process) those writes — each a system call that also delivers the bytes through the loopback or
 * network stack — were the largest single cost of a task on the client side. Here the socket is corked at the
 * first command of a turn and uncorked once the turn's I/O callbacks ran (`setImmediate`), so the turn's
 * commands leave together in one `writev`.
 *
 * Nothing else changes: each command is still registered with ioredis (and its timeout armed) when it is sent,
 * in call order, so replies match as before and Redis runs one connection's commands in the order they were
 * sent. Unlike ioredis' `enableAutoPipelining` there is no pipeline object per batch and no waiting for the
 * previous batch's replies.
 */
import type { Socket } from "node:net";
import type { Redis } from "ioredis";

/**
 * Makes `redis` write each turn's commands in one socket write.
 *
 * @example
 * const redis = new Redis(url);
 * batchWrites(redis);
 * await Promise.all([redis.set("a", "1"), redis.set("b", "2")]); // one write
 */
export function batchWrites(redis: Redis): void {
  const send = redis.sendCommand.bind(redis);
  let corked: Socket | undefined;
  const flush = (): void => {
    const socket = corked;
    corked = undefined;
    socket?.uncork();
  };
  redis.sendCommand = ((...args: Parameters<Redis["sendCommand"]>) => {
    // Only a connected socket is corked (a command while connecting or offline takes ioredis' own path).
    const socket = redis.stream as Socket | undefined;
    if (corked === undefined && redis.status === "ready" && socket?.writable) {
      socket.cork();
      corked = socket;
      setImmediate(flush);
    }
    return send(...args);
  }) as Redis["sendCommand"];
}
