// bench/memory: resident memory (RSS) of a kaygraph serve worker when idle and under load, and of the
// primary, read from /proc. Linux only.
//   node bench/memory.mjs [--duration 5]
import autocannon from "autocannon";
import { readFileSync } from "node:fs";
import { fmt, machineLine } from "./lib.mjs";
import { startKaygraph } from "./servers.mjs";

const args = process.argv.slice(2);
const DURATION = args.includes("--duration") ? Number(args[args.indexOf("--duration") + 1]) : 5;

const rssMb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]) / 1024;

export async function runMemoryBench() {
  const server = await startKaygraph();
  try {
    const base = `http://127.0.0.1:${server.port}`;
    const workerPid = (await (await fetch(`${base}/health`)).json()).pid;
    await new Promise((r) => setTimeout(r, 1000));
    const idle = rssMb(workerPid);
    let peak = idle;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMb(workerPid))), 100);
    await new Promise((resolve, reject) =>
      autocannon(
        { url: `${base}/api/v1/echo`, method: "POST", headers: { "content-type": "application/json" }, body: '{"text":"hi","n":1}', connections: 50, duration: DURATION },
        (e, r) => (e ? reject(e) : resolve(r)),
      ),
    );
    clearInterval(sampler);
    return { idleWorkerMb: idle, loadedWorkerMb: peak, primaryMb: rssMb(server.child.pid) };
  } finally {
    await server.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(`memory — ${machineLine()}`);
  const m = await runMemoryBench();
  console.log(`worker RSS idle ${fmt(m.idleWorkerMb, 1)} MB, under load (50 connections) peak ${fmt(m.loadedWorkerMb, 1)} MB; primary ${fmt(m.primaryMb, 1)} MB`);
}
