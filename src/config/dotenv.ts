import { readFile } from "node:fs/promises";
import { parseEnv } from "node:util";
import { Errors, KaygraphError } from "../errors.js";

/** Reads a `.env` file (KEY=value lines, quotes, comments) with Node's own parser. */
export async function readDotenv(file: string): Promise<Record<string, string>> {
  try {
    return { ...parseEnv(await readFile(file, "utf8")) } as Record<string, string>;
  } catch (error) {
    throw new KaygraphError(Errors.EnvFile, { message: `${file}: ${(error as Error).message}`, cause: error });
  }
}
