#!/usr/bin/env node
import { CommanderError } from "commander";
import { buildProgram } from "./program.js";

// commander signals --help and --version through exitOverride as errors; they are successes.
const CLEAN_EXITS = new Set(["commander.helpDisplayed", "commander.version", "commander.help"]);

buildProgram()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    if (err instanceof CommanderError) {
      process.exitCode = CLEAN_EXITS.has(err.code) ? 0 : err.exitCode;
      return;
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`ironlb: ${message}\n`);
    process.exitCode = 1;
  });
