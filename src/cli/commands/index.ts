import type { Command } from "commander";
import { configCommand } from "./config.js";
import { devCommand } from "./dev.js";
import { generateCommand } from "./generate.js";
import { graphsCommand } from "./graphs.js";
import { initCommand } from "./init.js";
import { runCommand } from "./run.js";
import { serveCommand } from "./serve.js";
import { tokenCommand } from "./token.js";
import { workerCommand } from "./worker.js";

/** One factory per command; each lives in its own file and loads heavy modules lazily in its action. */
export const commandFactories: ReadonlyArray<() => Command> = [initCommand, runCommand, devCommand, serveCommand, workerCommand, graphsCommand, generateCommand, tokenCommand, configCommand];
