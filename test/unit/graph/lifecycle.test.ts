import { afterEach, describe, expect, it } from "vitest";
import { Graph, Node } from "../../../src/index.js";
import { Step, captureWarnings, type Store } from "./helpers.js";

let warnings: ReturnType<typeof captureWarnings> | undefined;
afterEach(() => warnings?.restore());

describe("lifecycle", () => {
  it("runs prep → exec → post with sync and async bodies and passes results along", async () => {
    class Mixed extends Node<{ text: string; out?: string }, string, string> {
      override async prep(shared: { text: string }) {
        return shared.text;
      }
      override exec(text: string) {
        return text.toUpperCase();
      }
      override async post(shared: { out?: string }, prepRes: string, execRes: string) {
        shared.out = `${prepRes}->${execRes}`;
        return "ok";
      }
    }
    const shared: { text: string; out?: string } = { text: "hi" };
    await expect(new Mixed().run(shared)).resolves.toBe("ok");
    expect(shared.out).toBe("hi->HI");
  });

  it("calls hooks in order, afterExec sees the fallback's result", async () => {
    const calls: string[] = [];
    class Hooked extends Node {
      override setupResources() {
        calls.push("setup");
      }
      override beforePrep() {
        calls.push("beforePrep");
      }
      override prep() {
        calls.push("prep");
        return 1;
      }
      override exec(): number {
        calls.push("exec");
        throw new Error("boom");
      }
      override execFallback(_p: number, e: unknown) {
        calls.push(`fallback:${(e as Error).message}`);
        return 42;
      }
      override afterExec(_s: unknown, _p: number, execRes: number) {
        calls.push(`afterExec:${execRes}`);
      }
      override post(_s: unknown, _p: number, execRes: number) {
        calls.push(`post:${execRes}`);
      }
      override cleanupResources() {
        calls.push("cleanup");
      }
    }
    await new Hooked().run({});
    expect(calls).toEqual(["setup", "beforePrep", "prep", "exec", "fallback:boom", "afterExec:42", "post:42", "cleanup"]);
  });

  it("onError returning truthy suppresses the error and the graph follows default", async () => {
    class Fails extends Node<Store> {
      override exec() {
        throw new Error("nope");
      }
      override post() {
        return "never";
      }
      override onError(shared: Store, error: unknown) {
        shared.log.push(`handled ${(error as Error).message}`);
        return true;
      }
    }
    const f = new Fails();
    f.on("default", new Step("recovered")).on("never", new Step("wrong"));
    const shared: Store = { log: [] };
    await new Graph(f).run(shared);
    expect(shared.log).toEqual(["handled nope", "recovered"]);
  });

  it("onError returning falsy re-throws the original error; cleanup still runs", async () => {
    const calls: string[] = [];
    class Fails extends Node {
      override prep() {
        throw new Error("prep failed");
      }
      override onError() {
        calls.push("onError");
        return false;
      }
      override cleanupResources() {
        calls.push("cleanup");
      }
    }
    await expect(new Graph(new Fails()).run({})).rejects.toThrow("prep failed");
    expect(calls).toEqual(["onError", "cleanup"]);
  });

  it("an error thrown by onError propagates", async () => {
    class Fails extends Node {
      override exec() {
        throw new Error("first");
      }
      override onError(): never {
        throw new Error("second");
      }
    }
    await expect(new Fails().run({})).rejects.toThrow("second");
  });

  it("graphs run hooks around their orchestration", async () => {
    const calls: string[] = [];
    class Hooked extends Graph<Store> {
      override setupResources() {
        calls.push("setup");
      }
      override beforePrep() {
        calls.push("beforePrep");
      }
      override afterExec(_s: Store, _p: unknown, last: unknown) {
        calls.push(`afterExec:${String(last)}`);
      }
      override cleanupResources() {
        calls.push("cleanup");
      }
      override onError(shared: Store) {
        shared.log.push("graph handled");
        return true;
      }
    }
    const shared: Store = { log: [] };
    await new Hooked(new Step("a", "last")).run(shared);
    expect(calls).toEqual(["setup", "beforePrep", "afterExec:last", "cleanup"]);

    class Boom extends Node {
      override exec() {
        throw new Error("inner");
      }
    }
    const outer = new Hooked(new Boom());
    outer.next(new Step("after-graph"));
    const s2: Store = { log: [] };
    await new Graph(outer).run(s2);
    expect(s2.log).toEqual(["graph handled", "after-graph"]);
  });
});

describe("retries", () => {
  it("maxRetries is the total number of attempts; curRetry is 0-based", async () => {
    class Flaky extends Node {
      attempts = { n: 0 };
      override exec() {
        this.attempts.n += 1;
        if (this.attempts.n < 3) throw new Error(`fail ${this.attempts.n}`);
        return "ok";
      }
    }
    const node = new Flaky({ maxRetries: 3 });
    await node.run({});
    expect(node.attempts.n).toBe(3);
    expect(node.curRetry).toBe(2);
    expect(node.currentRetry).toBe(2);
  });

  it("after a fallback curRetry is maxRetries - 1, and the fallback gets the last error", async () => {
    const errors: string[] = [];
    class AlwaysFails extends Node {
      n = { v: 0 };
      override exec(): string {
        this.n.v += 1;
        throw new Error(`attempt ${this.n.v}`);
      }
      override execFallback(_p: unknown, error: unknown) {
        errors.push((error as Error).message);
        return "fallback";
      }
      override post(shared: Record<string, unknown>, _p: unknown, r: string) {
        shared.r = r;
      }
    }
    const node = new AlwaysFails({ maxRetries: 4 });
    const shared: Record<string, unknown> = {};
    await node.run(shared);
    expect(node.n.v).toBe(4);
    expect(node.curRetry).toBe(3);
    expect(errors).toEqual(["attempt 4"]);
    expect(shared.r).toBe("fallback");
  });

  it("the default fallback re-throws; a single attempt by default", async () => {
    class Fails extends Node {
      n = { v: 0 };
      override exec() {
        this.n.v += 1;
        throw new Error("no");
      }
    }
    const node = new Fails();
    await expect(node.run({})).rejects.toThrow("no");
    expect(node.n.v).toBe(1);
  });

  it("waits `wait` seconds between attempts, not after the last one", async () => {
    const times: number[] = [];
    class Fails extends Node {
      override exec(): never {
        times.push(performance.now());
        throw new Error("x");
      }
      override execFallback() {
        times.push(performance.now());
        return null;
      }
    }
    await new Fails({ maxRetries: 3, wait: 0.03 }).run({});
    expect(times).toHaveLength(4);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(25);
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(25);
    expect(times[3]! - times[2]!).toBeLessThan(25);
  });

  it("accepts the positional PocketFlow form and rejects bad values", () => {
    const n = new Node(3, 0.5);
    expect(n.maxRetries).toBe(3);
    expect(n.wait).toBe(0.5);
    expect(n.nodeId).toBe("Node");
    expect(() => new Node({ maxRetries: 0 })).toThrow(RangeError);
    expect(() => new Node({ maxRetries: 1.5 })).toThrow(RangeError);
    expect(() => new Node({ wait: -1 })).toThrow(RangeError);
    expect(new Node({ nodeId: "custom" }).nodeId).toBe("custom");
  });
});
