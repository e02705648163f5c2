import os from "node:os";
import type { ResolvedConfig } from "../config/schema.js";

/** `workers: "auto"` → the CPU count. */
export function resolveWorkers(workers: ResolvedConfig["workers"]): number {
  return workers === "auto" ? os.availableParallelism() : workers;
}
