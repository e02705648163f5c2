import { readFileSync } from "node:fs";

/** Name and version of this package, read from its package.json (dist/ and src/ sit one level below it). */
export interface PackageInfo {
  name: string;
  version: string;
}

let cached: PackageInfo | undefined;

/** The running kaygraph's package.json fields. */
export function packageInfo(): PackageInfo {
  cached ??= JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as PackageInfo;
  return cached;
}

/** Absolute path of the package root (holding package.json and templates/). */
export const packageRoot: string = new URL("..", import.meta.url).pathname;
