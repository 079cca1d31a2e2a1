import { Command } from "commander";
import { VERSION } from "../version.js";
import { registerController } from "./controller.js";
import { registerDoctor } from "./doctor.js";
import { registerLab } from "./lab.js";
import { registerMigrate } from "./migrate.js";
import { registerSpeaker } from "./speaker.js";
import { registerStatus } from "./status.js";

/**
 * The `ironlb` command tree. Each subcommand lives in its own module under src/cli/ and is
 * registered here, so `ironlb --help` lists everything the binary can do.
 */
export function buildProgram(): Command {
  const program = new Command("ironlb")
    .description("IronLB: bare-metal LoadBalancer for Kubernetes")
    .version(VERSION, "--version", "print the version")
    .showHelpAfterError()
    .exitOverride();

  program
    .command("version")
    .description("print the IronLB version")
    .action(() => {
      process.stdout.write(`ironlb ${VERSION}\n`);
    });

  registerMigrate(program);
  registerController(program);
  registerLab(program);
  registerSpeaker(program);
  registerStatus(program);
  registerDoctor(program);

  return program;
}
