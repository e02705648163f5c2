import { vi } from "vitest";
import { Node, type RunEvent } from "../../../src/index.js";

/** Shared store used by most runtime tests. */
export interface Store {
  log: string[];
  [key: string]: unknown;
}

/** A node that appends its name to shared.log and returns a fixed action. */
export class Step extends Node<Store> {
  constructor(
    readonly label: string,
    readonly action?: string,
  ) {
    super({ nodeId: label });
  }
  override post(shared: Store) {
    shared.log.push(this.label);
    return this.action;
  }
}

/** Captures process.emitWarning calls with their codes. */
export function captureWarnings() {
  const spy = vi.spyOn(process, "emitWarning").mockImplementation(() => undefined);
  return {
    get list(): Array<{ message: string; code: string | undefined }> {
      return spy.mock.calls.map(([warning, options]) => ({
        message: String(warning),
        code: typeof options === "object" && options !== null ? (options as { code?: string }).code : undefined,
      }));
    },
    restore: () => spy.mockRestore(),
  };
}

/** Collects run events. */
export function collectEvents() {
  const events: RunEvent[] = [];
  return { events, onEvent: (e: RunEvent) => void events.push(e) };
}
