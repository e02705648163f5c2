import { execa } from "execa";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RunRecordWriter, RunRecords, readRunRecord } from "../../../src/process/run-record.js";

const FIXTURE = fileURLToPath(new URL("./fixtures/record-and-exit.ts", import.meta.url));

/** Blocks this thread's event loop (as graph code stuck in a loop does) until `done()` or `ms` pass. */
function blockUntil(done: () => boolean, ms: number): boolean {
  const end = Date.now() + ms;
  while (Date.now() < end) if (done()) return true;
  return false;
}

describe("run record (what the watchdog names)", () => {
  let records: RunRecords;
  let file: string;

  beforeEach(() => {
    records = new RunRecords();
    const name = records.fileFor();
    if (name === undefined) throw new Error("the temp directory is not writable");
    file = name;
  });
  afterEach(() => records.remove());

  it("reaches the file while the main event loop is blocked, with no write on the recording thread", () => {
    const writer = new RunRecordWriter(file);
    try {
      writer.record({ graph: "first", version: 1, kind: "sync", requestId: "r1" });
      expect(blockUntil(() => readRunRecord(file)?.requestId === "r1", 10_000)).toBe(true);
      // The next run blocks the loop right after it starts: its record still arrives.
      writer.record({ graph: "spin", version: 2, kind: "task", requestId: "t2" });
      expect(blockUntil(() => readRunRecord(file)?.requestId === "t2", 10_000)).toBe(true);
      expect(readRunRecord(file)).toMatchObject({ graph: "spin", version: 2, kind: "task", requestId: "t2" });
    } finally {
      writer.close();
    }
  });

  it("keeps the last of many quick records", () => {
    const writer = new RunRecordWriter(file);
    for (let i = 0; i < 10_000; i++) writer.record({ graph: "echo", version: 1, kind: "sync", requestId: `r${i}` });
    expect(blockUntil(() => readRunRecord(file)?.requestId === "r9999", 10_000)).toBe(true);
    writer.close();
    expect(readRunRecord(file)?.requestId).toBe("r9999");
  });

  it("a record too long for the shared buffer reads back as no record, never as a wrong one", () => {
    const writer = new RunRecordWriter(file);
    writer.record({ graph: "g", version: 1, kind: "sync", requestId: "x".repeat(10_000) });
    writer.close();
    expect(readRunRecord(file)).toBeUndefined();
  });

  it.each(["exit", "throw"])("is on disk when the process ends at once after the record (%s)", async (how) => {
    const child = await execa(process.execPath, ["--import", "tsx", FIXTURE, file, how], { reject: false });
    expect(child.exitCode).toBe(how === "exit" ? 7 : 1);
    expect(readRunRecord(file)).toMatchObject({ graph: "quitter", version: 3, kind: "sync", requestId: `req-${how}` });
  });
});
