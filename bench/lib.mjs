// Shared helpers for the benchmark scripts: timing, medians and table printing.
import { readdirSync, readFileSync } from "node:fs";
import os from "node:os";

/** Median of numbers. */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Percentile (0-100) of numbers, nearest-rank. */
export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/** Runs `fn` `rounds` times after `warmup` runs; returns the median duration in ms. */
export async function timeMedian(fn, { rounds = 5, warmup = 1 } = {}) {
  for (let i = 0; i < warmup; i++) await fn();
  const times = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

/** Prints an aligned table. */
export function printTable(headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join("  ");
  console.log(line(headers));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of rows) console.log(line(r));
}

/** One line describing the machine, for every report. */
export function machineLine() {
  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  return `node ${process.version}, ${os.cpus().length} x ${cpu}, ${os.platform()} ${os.arch()}`;
}

/** Formats a number with thousands separators. */
export const fmt = (n, digits = 0) => Number(n).toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** `--name <n>` from `args` as a number, else `dflt`. */
export function numberFlag(args, name, dflt) {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? Number(args[at + 1]) : dflt;
}

/**
 * CPU time (user + system, ms) used so far by process `pid` and all its descendants, from /proc (Linux only;
 * NaN elsewhere). Unlike a rate, CPU per operation barely moves when other work shares the machine.
 */
export function treeCpuMs(pid) {
  let entries;
  try {
    entries = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return NaN;
  }
  const procs = new Map();
  for (const name of entries) {
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // After the command: state ppid … utime (14th field overall) stime (15th), in clock ticks.
      procs.set(Number(name), { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      // The process ended while we looked.
    }
  }
  const inTree = (p) => {
    for (let at = p, hops = 0; at > 1 && hops < 64; hops++) {
      if (at === pid) return true;
      at = procs.get(at)?.ppid ?? 0;
    }
    return false;
  };
  let ticks = 0;
  for (const [p, info] of procs) if (inTree(p)) ticks += info.ticks;
  return ticks * 10; // USER_HZ is 100 on Linux
}

/** Deletes every key under `prefix:` (SCAN + UNLINK), with an ioredis client the caller owns. */
export async function unlinkPrefix(redis, prefix) {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
    cursor = next;
    if (keys.length) await redis.unlink(...keys);
  } while (cursor !== "0");
}
