import { defineConfig } from "kaygraph";

// Settings: built-in defaults < this file < environment (KAYGRAPH_*, .env) < command-line flags.
// Secrets (KAYGRAPH_SECRET_KEY, KAYGRAPH_REDIS_URL) belong in the environment, never in this file.
// `kaygraph config` prints every resolved setting and where it came from.
export default defineConfig({
  graphs: "graphs",
  // Every route but /health, /ready, /docs and /openapi.json needs `Authorization: Bearer <jwt>`, HS256-signed
  // with KAYGRAPH_SECRET_KEY (`kaygraph init` wrote a random one to .env). `kaygraph token --sub me --tier basic`
  // prints a token for local testing; in production your identity provider issues them.
  auth: { mode: "jwt" },
  rateLimit: {
    enabled: true,
    // Callers without a token, per IP (they only reach the public routes).
    anonymous: "30/minute",
    // Callers with a token, per `sub`, by the token's `tier` claim (unknown tiers count as free).
    tiers: { free: "10/minute", basic: "100/minute", premium: "1000/minute" },
  },
  server: {
    requestTimeoutMs: 15_000,
    shutdownTimeout: 20,
  },
  tasks: { concurrency: 4 },
});
