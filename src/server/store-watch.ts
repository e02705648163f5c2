/**
 * Watching the stores of a server process: the log line of every up/down change, and the rate-limit store's
 * probe (the task store watches itself: see WatchedTaskStore).
 */
import type { Logger } from "pino";
import { LimiterUnavailableError } from "../security/rate-limit/decision.js";
import type { RateLimiter } from "../security/rate-limit/limiter.js";
import { publicReason } from "../tasks/store-health.js";
import { STORE_LABEL, StoreIdentityError, StoreUnavailableError, type StoreHealth, type StoreHealthListener } from "../tasks/index.js";

/**
 * Logs each change of a store's health once: an error line when it goes down (for a deleted or replaced
 * SQLite file, the line says what happened and how to recover), an info line when it is back.
 *
 * @example
 * const health = new StoreHealth(logStoreHealth(logger));
 */
export function logStoreHealth(logger: Logger): StoreHealthListener {
  return (name, status, detail) => {
    const fields = { store: name, backend: status.backend };
    if (status.status === "up") {
      logger.info(fields, `${STORE_LABEL[name]} is available again`);
      return;
    }
    if (detail instanceof StoreIdentityError) {
      logger.error({ ...fields, file: detail.file, change: detail.change }, detail.message);
      return;
    }
    logger.error({ ...fields, reason: status.reason, err: detail }, `${STORE_LABEL[name]} is unavailable: ${status.reason ?? "unknown"}`);
  };
}

/** A limiter under watch; `stop` ends its probe. */
export interface WatchedLimiter {
  limiter: RateLimiter;
  stop(): void;
}

/**
 * Watches the rate-limit store: a probe every `probeEveryMs` (Redis PING, SQLite `SELECT 1` and file identity;
 * the cluster store has none) and every consume that found the store down mark it down in `health` until a probe
 * succeeds. Meanwhile consumes fail at once as unavailable (503, or pass with `rateLimit.failOpen`).
 *
 * @example
 * const { limiter, stop } = watchLimiter(guard.limiter, health);
 */
export function watchLimiter(inner: RateLimiter, health: StoreHealth, probeEveryMs = 1000): WatchedLimiter {
  health.register("limits", inner.storeKind);
  const down = (error: unknown): void => {
    const cause = error instanceof LimiterUnavailableError ? error.cause : error;
    health.markDown("limits", publicReason(cause, inner.storeKind), cause);
  };
  let probing = false;
  const timer = setInterval(() => {
    if (probing) return;
    probing = true;
    inner
      .probe()
      .then(() => health.markUp("limits"), down)
      .finally(() => (probing = false));
  }, probeEveryMs);
  timer.unref();
  const limiter: RateLimiter = {
    failOpen: inner.failOpen,
    storeKind: inner.storeKind,
    async consume(key, spec) {
      const status = health.status("limits");
      if (status?.status === "down") throw new LimiterUnavailableError(inner.storeKind, new StoreUnavailableError("limits", inner.storeKind, status.reason ?? "it is down"));
      try {
        return await inner.consume(key, spec);
      } catch (error) {
        if (error instanceof LimiterUnavailableError) down(error);
        throw error;
      }
    },
    probe: () => inner.probe(),
    close: () => inner.close(),
  };
  return { limiter, stop: () => clearInterval(timer) };
}
