/**
 * The one task-store conformance suite: every backend must pass it unchanged. A backend test file calls
 * `describeTaskStore(factory)`; each test gets fresh, isolated storage from the factory.
 */
import { describe, expect, onTestFinished } from "vitest";
import { apiCases } from "./cases-api.js";
import { crossProcessCases } from "./cases-cross-process.js";
import { durableCases } from "./cases-durable.js";
import { leaseCases } from "./cases-lease.js";
import { runnerCases } from "./cases-runner.js";
import { webhookCases } from "./cases-webhooks.js";
import type { Backend, BackendFactory } from "./helpers.js";

/** Fresh storage for the current test, disposed (and checked for background errors) when it ends. */
export type Fresh = () => Promise<Backend>;

/** Declares the whole suite for one backend. */
export function describeTaskStore(name: string, factory: BackendFactory): void {
  describe(`task store conformance (${name})`, () => {
    const fresh: Fresh = async () => {
      const backend = await factory();
      onTestFinished(async () => {
        await backend.dispose();
        expect(backend.errors, "background errors reported by the stores").toEqual([]);
      });
      return backend;
    };
    describe("API side", () => apiCases(fresh));
    describe("leases", () => leaseCases(fresh));
    describe("runner", () => runnerCases(fresh));
    describe("across processes", () => crossProcessCases(fresh));
    describe("durable runs", () => durableCases(fresh));
    describe("webhook outbox", () => webhookCases(fresh));
  });
}
