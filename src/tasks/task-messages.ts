/** Fixed texts of lifecycle errors and events, identical in both backends. */
import type { TaskError } from "./types.js";

/** The error of a task that ended because someone cancelled it. */
export const CANCELLED_ERROR: TaskError = { error_code: "CANCELLED", message: "The task was cancelled." };
/** The `retry` event of a task handed back by a worker that shut down (the attempt does not count). */
export const RELEASED: TaskError = { error_code: "WORKER_SHUTDOWN", message: "The worker shut down before the task finished; it will run again." };
/** The error and `retry` event of a task whose worker stopped renewing its lease. */
export const WORKER_LOST_MESSAGE = "The worker running this task stopped responding (its lease expired).";
