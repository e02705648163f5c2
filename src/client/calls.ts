/** The calls of the kaygraph client: per graph version, and on tasks of any graph. */
import { streamRun, subscribeTask } from "./streams.js";
import type { Transport } from "./transport.js";
import { KaygraphApiError, type GraphClient, type RequestOptions, type Task, type TaskAccepted, type TaskClient, type TaskState } from "./types.js";

/** The calls of one graph version at `path` (its sync route). */
export function graphClient<Input, Output, Resume = unknown>(http: Transport, path: string, graph: string, version: number): GraphClient<Input, Output, Resume> {
  const taskPath = (id: string) => "/tasks/" + encodeURIComponent(id);
  // A task id of another graph would come back with another output type: refuse it like an unknown id.
  const own = (task: Task<Output>): Task<Output> => {
    if (task.graph === graph && task.version === version) return task;
    throw new KaygraphApiError({ status: 404, error_code: "NOT_FOUND", message: "Task " + task.id + " belongs to " + task.graph + " v" + task.version + ", not " + graph + " v" + version + "." });
  };
  const task = async (id: string, options: RequestOptions = {}) => own(await http.json<Task<Output>>("GET", taskPath(id), { options }));
  return {
    async run(input, options = {}) {
      const body = await http.json<unknown>("POST", path, { body: input, options });
      // A run that called interrupt() became a task (202 with its record): say so, with the record in details.
      const task = body as Partial<Task<Output>> | null;
      if (task !== null && typeof task === "object" && task.status === "interrupted" && typeof task.id === "string") {
        const at = task.interrupt?.node ?? "?";
        throw new KaygraphApiError({ status: 202, error_code: "INTERRUPTED", message: "The run stopped at node " + at + " and became task " + task.id + ": answer it with resume(id, value).", details: task });
      }
      if (typeof body !== "object" || body === null || !("result" in body)) {
        throw new KaygraphApiError({ status: 200, error_code: "UNEXPECTED_RESPONSE", message: "The answer of " + path + " has no result." });
      }
      return (body as { result: Output }).result;
    },
    submit(input, options = {}) {
      const headers: Record<string, string> = options.idempotencyKey === undefined ? {} : { "idempotency-key": options.idempotencyKey };
      return http.json<TaskAccepted>("POST", path + "/async", { body: input, headers, options });
    },
    stream(input, options = {}) {
      return streamRun<Output>(http, path + "/stream", input, options);
    },
    task,
    async cancel(id, options = {}) {
      // Checked first: cancelling must never touch another graph's task.
      await task(id, options);
      return own(await http.json<Task<Output>>("DELETE", taskPath(id), { options }));
    },
    async resume(id, value, options = {}) {
      // Checked first, like cancel: a resume must never reach another graph's task.
      await task(id, options);
      const headers: Record<string, string> = options.idempotencyKey === undefined ? {} : { "idempotency-key": options.idempotencyKey };
      return own(await http.json<Task<Output>>("POST", taskPath(id) + "/resume", { body: { value }, headers, options }));
    },
    async state(id, options = {}) {
      await task(id, options);
      return http.json<TaskState>("GET", taskPath(id) + "/state", { options });
    },
  };
}

/** The calls on tasks of any graph. */
export function taskClient(http: Transport): TaskClient {
  const taskPath = (id: string) => "/tasks/" + encodeURIComponent(id);
  return {
    task: (id, options = {}) => http.json("GET", taskPath(id), { options }),
    cancel: (id, options = {}) => http.json("DELETE", taskPath(id), { options }),
    tasks(query = {}, options = {}) {
      const pairs = Object.entries(query).filter((pair) => pair[1] !== undefined);
      const search = pairs.map((pair) => encodeURIComponent(pair[0]) + "=" + encodeURIComponent(String(pair[1]))).join("&");
      return http.json("GET", search ? "/tasks?" + search : "/tasks", { options });
    },
    subscribe: (taskId, options = {}) => subscribeTask(http, taskId, options),
    resume(id, value, options = {}) {
      const headers: Record<string, string> = options.idempotencyKey === undefined ? {} : { "idempotency-key": options.idempotencyKey };
      return http.json("POST", taskPath(id) + "/resume", { body: { value }, headers, options });
    },
    state: (id, options = {}) => http.json("GET", taskPath(id) + "/state", { options }),
  };
}
