#!/usr/bin/env node
// Thin shim: everything lives in the compiled CLI so `--help` stays fast and testable.
import { runMain } from "../dist/cli/main.js";

await runMain(process.argv);
