import type { RunEvent } from "../graph/events.js";

/** How `kaygraph run` shows progress on stderr. */
export type ProgressMode = "tty" | "lines" | "quiet";

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/**
 * Renders run events as progress on stderr: a live spinner line on a terminal, one plain line per node step
 * otherwise, nothing when quiet. Returns the event listener and a `stop()` that clears the live line.
 */
export function createProgress(mode: ProgressMode, stream: NodeJS.WriteStream = process.stderr): { onEvent: (e: RunEvent) => void; stop: () => void } {
  if (mode === "quiet") return { onEvent: () => undefined, stop: () => undefined };
  if (mode === "lines") {
    return {
      onEvent: (e) => {
        if (e.type === "node_start") stream.write(`▸ ${e.node}\n`);
        else if (e.type === "node_end") stream.write(`✓ ${e.node} → ${e.action} (${e.duration_ms.toFixed(1)} ms)\n`);
        else if (e.type === "error") stream.write(`✖ ${e.node ? `${e.node}: ` : ""}${e.error_code}\n`);
      },
      stop: () => undefined,
    };
  }
  let current = "starting";
  let steps = 0;
  let frame = 0;
  const draw = () => stream.write(`\r\x1b[2K${FRAMES[frame++ % FRAMES.length]} ${current} · ${steps} step${steps === 1 ? "" : "s"}`);
  const timer = setInterval(draw, 80);
  timer.unref();
  return {
    onEvent: (e) => {
      if (e.type === "node_start") current = e.node;
      else if (e.type === "node_end") {
        steps++;
        current = `${e.node} → ${e.action}`;
      }
    },
    stop: () => {
      clearInterval(timer);
      stream.write("\r\x1b[2K");
    },
  };
}
