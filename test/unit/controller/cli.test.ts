import { describe, expect, test } from "vitest";
import { buildProgram } from "../../../src/cli/program.js";

describe("ironlb controller command", () => {
  const command = buildProgram().commands.find((c) => c.name() === "controller");

  test("is registered", () => {
    expect(command).toBeDefined();
  });

  test.each([
    { flag: "--kubeconfig", default: undefined },
    { flag: "--namespace", default: "ironlb-system" },
    { flag: "--lb-class", default: undefined },
    { flag: "--metrics-addr", default: ":7472" },
    { flag: "--health-addr", default: undefined },
    { flag: "--webhook-addr", default: undefined },
    { flag: "--leader-elect", default: false },
    { flag: "--log-level", default: "info" },
  ])("has $flag (default $default)", ({ flag, default: value }) => {
    const option = command?.options.find((o) => o.long === flag);
    expect(option, flag).toBeDefined();
    expect(option?.defaultValue).toBe(value);
    expect(option?.hidden).toBe(false);
  });
});
