// Polling with a deadline: the tests' only way to wait for something that happens elsewhere.
import { setTimeout as delay } from "node:timers/promises";

/**
 * Calls `probe` until it returns a value other than `undefined`, every `intervalMs`, failing after `timeoutMs`
 * with the last error `probe` threw (or a timeout message).
 */
export async function pollUntil<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 10_000, intervalMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`, { cause: last });
    await delay(intervalMs);
  }
}
