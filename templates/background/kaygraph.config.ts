import { defineConfig } from "kaygraph";

// Settings: built-in defaults < this file < environment (KAYGRAPH_*, .env) < command-line flags.
// `kaygraph config` prints every resolved setting and where it came from.
export default defineConfig({
  graphs: "graphs",
  tasks: {
    // Background tasks one process runs at once; `kaygraph worker` processes add more.
    concurrency: 2,
    // Finished tasks (and their results) are kept this long: 3 days.
    retentionMs: 3 * 24 * 3600 * 1000,
  },
});
