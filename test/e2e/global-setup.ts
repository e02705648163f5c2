import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";

/** Newest modification time under `dir` (recursive), in ms. */
function newest(dir: string): number {
  let max = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    max = Math.max(max, entry.isDirectory() ? newest(full) : statSync(full).mtimeMs);
  }
  return max;
}

/** e2e tests run the built CLI: fail clearly when dist/ is missing or older than src/, never rebuild silently. */
export default function setup(): void {
  const root = path.resolve(import.meta.dirname, "../..");
  const dist = path.join(root, "dist", "cli", "main.js");
  if (!existsSync(dist)) throw new Error("dist/ is missing: run `npm run build` before the e2e tests (npm test does it).");
  if (newest(path.join(root, "src")) > newest(path.join(root, "dist"))) {
    throw new Error("dist/ is older than src/: run `npm run build` before the e2e tests (npm test does it).");
  }
}
