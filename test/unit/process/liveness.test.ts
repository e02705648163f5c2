import { describe, expect, it, vi } from "vitest";
import { Liveness, describeRun } from "../../../src/process/liveness.js";
import { RunRecordWriter, RunRecords, readRunRecord } from "../../../src/process/run-record.js";

describe("Liveness (watchdog bookkeeping)", () => {
  it("never expires before it is armed (a worker still booting is not stuck)", () => {
    const live = new Liveness();
    live.beat(0);
    expect(live.armed).toBe(false);
    expect(live.silentFor(1_000_000)).toBe(0);
    expect(live.expired(1_000_000, 1_000)).toBe(false);
  });

  it("expires once silent longer than the timeout; every beat or run start resets the silence", () => {
    const live = new Liveness();
    live.arm(1_000);
    expect(live.expired(2_000, 1_000)).toBe(false);
    expect(live.expired(2_001, 1_000)).toBe(true);
    live.beat(2_500);
    expect(live.silentFor(3_000)).toBe(500);
    expect(live.expired(3_400, 1_000)).toBe(false);
    live.beat(4_000);
    expect(live.expired(4_900, 1_000)).toBe(false);
    expect(live.expired(5_100, 1_000)).toBe(true);
  });

  it("ignores a beat older than the last one (messages may be handled out of order)", () => {
    const live = new Liveness();
    live.arm(5_000);
    live.beat(4_000);
    expect(live.silentFor(5_500)).toBe(500);
  });

  it("a timeout of 0 turns the watchdog off", () => {
    const live = new Liveness();
    live.arm(0);
    expect(live.expired(1e12, 0)).toBe(false);
  });

  it("reads the last run a worker recorded and describes it for the log line", () => {
    const records = new RunRecords();
    try {
      const file = records.fileFor();
      if (file === undefined) throw new Error("the temp directory is not writable");
      expect(readRunRecord(file)).toBeUndefined();
      expect(describeRun(readRunRecord(file), 0)).toBe("none reported");
      const writer = new RunRecordWriter(file);
      writer.record({ graph: "a-graph-with-a-longer-name", version: 1, kind: "sync", requestId: "a-longer-request-id" });
      vi.useFakeTimers({ now: 1_000 });
      // A shorter record overwrites the start of a longer one: the record ends at its newline.
      writer.record({ graph: "spin", version: 2, kind: "sync", requestId: "req-7" });
      vi.useRealTimers();
      writer.close();
      expect(readRunRecord(file)).toEqual({ graph: "spin", version: 2, kind: "sync", requestId: "req-7", at: 1_000 });
      expect(describeRun(readRunRecord(file), 3_500)).toBe("spin@2 (sync request req-7, started 2.5s ago)");
      records.discard(file);
      expect(readRunRecord(file)).toBeUndefined();
    } finally {
      vi.useRealTimers();
      records.remove();
    }
    expect(describeRun({ graph: "ws-graph", version: 1, kind: "ws", at: 0 }, 0)).toBe("ws-graph@1 (ws, started 0s ago)");
    expect(describeRun({ graph: "job", version: 1, kind: "task", requestId: "t1", at: 0 }, 0)).toBe("job@1 (task t1, started 0s ago)");
  });

  it("without a writable temp directory there is no record file, and no run is named", () => {
    const tmp = process.env.TMPDIR;
    process.env.TMPDIR = "/nonexistent-kaygraph-tmp";
    try {
      const records = new RunRecords();
      expect(records.fileFor()).toBeUndefined();
      expect(records.fileFor()).toBeUndefined();
      expect(describeRun(readRunRecord(undefined), 0)).toBe("none reported");
    } finally {
      if (tmp === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = tmp;
    }
  });
});
