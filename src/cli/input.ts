import { readFile } from "node:fs/promises";
import path from "node:path";
import { text } from "node:stream/consumers";
import { Errors, KaygraphError } from "../errors.js";

/** Where `kaygraph run` takes its input from. */
export interface InputSources {
  input?: string;
  inputFile?: string;
  cwd: string;
  stdin: NodeJS.ReadStream;
}

/**
 * Reads the run's input: `--input <json>`, `--input-file <path>` (`-` = stdin), or piped stdin. With none of
 * them and a terminal on stdin, the input is `{}` (schema defaults apply). Bad JSON is a usage error.
 */
export async function readRunInput(sources: InputSources): Promise<unknown> {
  checkInputFlags(sources);
  if (sources.input !== undefined) return parseJson(sources.input, "--input");
  if (sources.inputFile !== undefined) {
    if (sources.inputFile === "-") return parseJson(await text(sources.stdin), "stdin");
    const file = path.resolve(sources.cwd, sources.inputFile);
    let raw: string;
    try {
      raw = await readFile(file, "utf8");
    } catch (error) {
      throw new KaygraphError(Errors.InputRead, { message: `Cannot read --input-file ${sources.inputFile}: ${(error as Error).message}`, cause: error });
    }
    return parseJson(raw, sources.inputFile);
  }
  if (sources.stdin.isTTY) return {};
  const piped = await text(sources.stdin);
  return piped.trim() === "" ? {} : parseJson(piped, "stdin");
}

/** A usage error when both `--input` and `--input-file` are given (checked before the project loads). */
export function checkInputFlags(flags: { input?: string; inputFile?: string }): void {
  if (flags.input !== undefined && flags.inputFile !== undefined) {
    throw new KaygraphError(Errors.Usage, { message: "Give the input either with --input or with --input-file, not both." });
  }
}

function parseJson(raw: string, from: string): unknown {
  try {
    return JSON.parse(raw);
  } catch (error) {
    throw new KaygraphError(Errors.InputInvalid, {
      message: `The input from ${from} is not valid JSON: ${(error as Error).message}`,
      hint: `Pass a JSON object, e.g. --input '{"text":"hello"}'.`,
    });
  }
}
