import { defineConfig } from "kaygraph";

// Settings: built-in defaults < this file < environment (KAYGRAPH_*, .env) < command-line flags.
// `kaygraph config` prints every resolved setting and where it came from.
export default defineConfig({
  graphs: "graphs",
  tasks: {
    // Interrupted tasks wait this long for an answer before they are deleted: 7 days.
    interruptedRetentionMs: 7 * 24 * 3600 * 1000,
    // Finished tasks (and their results) are kept this long: 3 days.
    retentionMs: 3 * 24 * 3600 * 1000,
  },
});
