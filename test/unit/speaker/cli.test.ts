import { CommanderError, type Command } from "commander";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildProgram } from "../../../src/cli/program.js";
import { readSysfsLinks } from "../../../src/l2/interfacesSysfs.js";

function speakerCommand(program: Command): Command {
  const speaker = program.commands.find((c) => c.name() === "speaker");
  if (speaker === undefined) throw new Error("no speaker subcommand");
  return speaker;
}

/** Runs `ironlb ARGS` with output captured; resolves with the CommanderError it ends with, if any. */
async function runCli(args: string[]): Promise<{ error: CommanderError | undefined; stderr: string }> {
  const program = buildProgram();
  let stderr = "";
  const capture = { writeErr: (s: string) => (stderr += s), writeOut: () => undefined };
  program.configureOutput(capture);
  for (const sub of program.commands) sub.configureOutput(capture).exitOverride();
  try {
    await program.parseAsync(["node", "ironlb", ...args]);
    return { error: undefined, stderr };
  } catch (error) {
    if (error instanceof CommanderError) return { error, stderr };
    throw error;
  }
}

describe("ironlb speaker command line", () => {
  let savedNodeName: string | undefined;
  beforeEach(() => {
    savedNodeName = process.env["NODE_NAME"];
    delete process.env["NODE_NAME"];
  });
  afterEach(() => {
    if (savedNodeName !== undefined) process.env["NODE_NAME"] = savedNodeName;
  });

  it("is registered with the flags the speaker documents", () => {
    const flags = speakerCommand(buildProgram())
      .options.filter((o) => !o.hidden)
      .map((o) => o.long);
    expect(flags).toEqual([
      "--node",
      "--kubeconfig",
      "--namespace",
      "--lb-class",
      "--metrics-addr",
      "--health-addr",
      "--log-level",
      "--exclude-interfaces",
      "--lease-duration",
      "--membership",
      "--membership-port",
      "--membership-bind",
      "--membership-advertise",
      "--membership-key-dir",
      "--bgp-state-dir",
      "--bgp-stop-mode",
    ]);
  });

  it("membership defaults: auto, UDP 7946 on every address, the key where the Secret is mounted", () => {
    const speaker = speakerCommand(buildProgram());
    const defaults = Object.fromEntries(speaker.options.map((o) => [o.attributeName(), o.defaultValue]));
    expect(defaults).toMatchObject({
      membership: "auto",
      membershipPort: 7946,
      membershipBind: "::",
      membershipKeyDir: "/etc/ironlb/membership",
    });
  });

  for (const [flag, value, message] of [
    ["--membership", "gossip", "Allowed choices are auto, swim, lease"],
    ["--membership-port", "70000", "expected a port"],
  ] as const) {
    it(`rejects ${flag} ${value}`, async () => {
      const { error, stderr } = await runCli(["speaker", "--node", "a", flag, value]);
      expect(error?.code).toMatch(/^commander\.invalid/);
      expect(stderr).toContain(message);
    });
  }

  it("defaults: ironlb-system, :7472, a 6 s lease", () => {
    const speaker = speakerCommand(buildProgram());
    const defaults = Object.fromEntries(speaker.options.map((o) => [o.attributeName(), o.defaultValue]));
    expect(defaults).toMatchObject({ namespace: "ironlb-system", metricsAddr: ":7472", leaseDuration: 6 });
  });

  it("refuses to start without a node name, exit code 2", async () => {
    const { error, stderr } = await runCli(["speaker", "--kubeconfig", "/nonexistent"]);
    expect(error?.exitCode).toBe(2);
    expect(stderr).toContain("--node is required");
  });

  const badDurations = ["0", "-3", "1.5", "six"];
  for (const value of badDurations) {
    it(`rejects --lease-duration ${value}`, async () => {
      const { error, stderr } = await runCli(["speaker", "--node", "a", "--lease-duration", value]);
      expect(error?.code).toBe("commander.invalidArgument");
      expect(stderr).toContain("positive whole number");
    });
  }

  it("documents the default interface exclusions in --help", () => {
    let help = "";
    const speaker = speakerCommand(buildProgram());
    speaker.configureOutput({ writeOut: (s) => (help += s) });
    speaker.outputHelp();
    expect(help).toContain("docker*,veth*,cali*");
    expect(help).toContain("CAP_NET_RAW");
  });
});

describe("readSysfsLinks on this machine", () => {
  it("finds the loopback link as the kernel reports it", async () => {
    const links = await readSysfsLinks();
    expect(links.find((l) => l.name === "lo")).toMatchObject({ ifindex: 1, type: 772 });
  });
});
