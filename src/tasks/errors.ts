/**
 * Errors the task store throws on purpose. Each carries the API `code` and HTTP `status` of DESIGN.md
 * section 5, so the HTTP layer maps them without knowing the store.
 */

/**
 * The `Idempotency-Key` was used before (by the same owner, within its TTL) with a different request.
 *
 * @example
 * try { await store.submit(input) } catch (e) { if (e instanceof IdempotencyMismatchError) reply(422, e.code) }
 */
export class IdempotencyMismatchError extends Error {
  readonly code = "IDEMPOTENCY_MISMATCH";
  readonly status = 422;
  /** The task the key belongs to. */
  readonly taskId: string;

  constructor(taskId: string) {
    super("This Idempotency-Key was already used with a different request; use a new key for a new request.");
    this.name = "IdempotencyMismatchError";
    this.taskId = taskId;
  }
}

/**
 * The task is already terminal (completed, failed or cancelled) and cannot be cancelled, or is not
 * interrupted and cannot be resumed.
 *
 * @example
 * await expect(store.cancel(doneId)).rejects.toBeInstanceOf(TaskConflictError);
 */
export class TaskConflictError extends Error {
  readonly code = "CONFLICT";
  readonly status = 409;
  readonly taskId: string;
  /** The terminal status it has. */
  readonly taskStatus: string;

  constructor(taskId: string, taskStatus: string, message = `Task ${taskId} is already ${taskStatus}; a finished task cannot be cancelled.`) {
    super(message);
    this.name = "TaskConflictError";
    this.taskId = taskId;
    this.taskStatus = taskStatus;
  }
}

/**
 * A `list` cursor that this store did not issue.
 *
 * @example
 * await expect(store.list({ cursor: "nonsense" })).rejects.toBeInstanceOf(InvalidCursorError);
 */
export class InvalidCursorError extends Error {
  readonly code = "VALIDATION_ERROR";
  readonly status = 422;

  constructor() {
    super("Invalid cursor: pass the next_cursor of a previous page unchanged.");
    this.name = "InvalidCursorError";
  }
}
