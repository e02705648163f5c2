import { defineConfig } from "kaygraph";

// Settings: built-in defaults < this file < environment (KAYGRAPH_*, .env) < command-line flags.
// `kaygraph config` prints every resolved setting and where it came from.
export default defineConfig({
  graphs: "graphs",
  server: {
    // A stream that runs longer than this is ended with a TIMEOUT error event.
    requestTimeoutMs: 60_000,
    // The live page (public/index.html) at http://localhost:3000/.
    static: "public",
  },
  ws: {
    // Ping every 15 s; a client that does not answer is dropped.
    heartbeatMs: 15_000,
  },
});
