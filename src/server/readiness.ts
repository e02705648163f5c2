/**
 * The readiness contract of `GET /ready`: 200 `{ status: "ready", stores }` while the server takes traffic and
 * every store it depends on answers; 503 `UNAVAILABLE` while it starts or drains, or while a store is down,
 * with the phase and every store's state in `details` and the first down store named in the message.
 */
import { STORE_LABEL, type StoreName, type StoreStatus } from "../tasks/index.js";
import type { ServerState } from "./context.js";

/** Each watched store's state, by name (`tasks`, `limits`). */
export type StoresSnapshot = Partial<Record<StoreName, StoreStatus>>;

/** What `/ready` answers. */
export type Readiness =
  | { ready: true; body: { status: "ready"; stores: StoresSnapshot } }
  | { ready: false; message: string; details: { phase: ServerState["phase"]; stores: StoresSnapshot } };

/**
 * Decides `/ready` from the server phase and the stores' health. A `tolerated` store is reported but does not
 * make the server unready (the rate-limit store with `rateLimit.failOpen`: requests pass while it is down).
 *
 * @example
 * readiness("ready", { tasks: { status: "down", backend: "redis", reason: "Redis did not answer in time" } });
 * // { ready: false, message: "The task store (redis) is unavailable: Redis did not answer in time.", details: { … } }
 */
export function readiness(phase: ServerState["phase"], stores: StoresSnapshot, tolerated: readonly StoreName[] = []): Readiness {
  if (phase !== "ready") return { ready: false, message: `The server is ${phase}.`, details: { phase, stores } };
  const down = (Object.entries(stores) as Array<[StoreName, StoreStatus]>).filter(([name, s]) => s.status === "down" && !tolerated.includes(name));
  if (down.length === 0) return { ready: true, body: { status: "ready", stores } };
  const message = down.map(([name, s]) => `The ${STORE_LABEL[name]} (${s.backend}) is unavailable: ${s.reason ?? "unknown"}.`).join(" ");
  return { ready: false, message, details: { phase, stores } };
}
