/**
 * The run record's thread (started by {@link RunRecordWriter} at a worker's first inline run): every few
 * milliseconds, copies a new record from the shared memory the worker's main thread writes into the record file.
 * It runs beside the main event loop, so a run that blocks that loop is on disk within one interval, for the
 * watchdog that kills the worker to name it.
 */
import { openSync } from "node:fs";
import { workerData } from "node:worker_threads";
import { readShared, writeRecord, type RunRecordThreadData } from "./run-record.js";

const { file, shared, intervalMs } = workerData as RunRecordThreadData;
const fd = openSync(file, "r+");
let written = 0;

setInterval(() => {
  const record = readShared(shared);
  if (record === undefined || record.sequence === written) return;
  writeRecord(fd, record.bytes);
  written = record.sequence;
}, intervalMs);
