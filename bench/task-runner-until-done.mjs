// A TaskRunner over a store that settles `done` once `tasks` tasks have run (the durable-run and webhook benches).
import { TaskRunner } from "../dist/index.js";

/**
 * A runner (not started) running each claimed task with `execute(task, ctx)`; `done` resolves when `tasks` of them
 * have run. The caller starts the runner, awaits `done`, then stops it.
 */
export function runnerUntilDone(store, { tasks, concurrency, execute }) {
  let ran = 0;
  let finished;
  const done = new Promise((resolve) => (finished = resolve));
  const runner = new TaskRunner(store, {
    concurrency,
    leaseMs: 30_000,
    execute: async (task, ctx) => {
      const output = await execute(task, ctx);
      if (++ran === tasks) finished();
      return output;
    },
  });
  return { runner, done };
}
