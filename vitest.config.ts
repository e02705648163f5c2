import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          environment: "node",
          testTimeout: 20_000,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          environment: "node",
          globalSetup: ["test/e2e/global-setup.ts"],
          testTimeout: 90_000,
          hookTimeout: 90_000,
          // e2e tests spawn real servers and workers; two cores leave room for few at a time.
          maxWorkers: 2,
          // Run after the unit project (they differ in maxWorkers, so each needs its own group).
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
