import { describe, expect, it } from "vitest";
import { buildProgram } from "../../../src/cli/program.js";
import { VERSION } from "../../../src/version.js";

describe("ironlb CLI", () => {
  it("lists its subcommands in --help", () => {
    const help = buildProgram().helpInformation();
    expect(help).toContain("version");
  });

  it("reports the package version", () => {
    expect(VERSION).toMatch(/^\d+\.\d+\.\d+/);
  });
});
