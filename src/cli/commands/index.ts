import type { Command } from "commander";

/** One factory per command; each lives in its own file. */
export const commandFactories: ReadonlyArray<() => Command> = [];
