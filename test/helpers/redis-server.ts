/** A throwaway redis-server of a test's own (to freeze, stop or restart without touching the shared one). */
import { spawn, type ChildProcess } from "node:child_process";

/** Starts `redis-server` on 127.0.0.1:`port`, keeping nothing on disk; the caller kills it. */
export function startRedis(port: number): ChildProcess {
  return spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
}
