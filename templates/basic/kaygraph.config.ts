import { defineConfig } from "kaygraph";

// Settings: built-in defaults < this file < environment (KAYGRAPH_*, .env) < command-line flags.
// `kaygraph config` prints every resolved setting and where it came from.
export default defineConfig({
  graphs: "graphs",
  server: {
    // A sync run that takes longer is aborted with 504 TIMEOUT.
    requestTimeoutMs: 10_000,
  },
});
