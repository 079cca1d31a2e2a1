// The prerequisite gate every integration and e2e test uses: what it reports missing, and whether
// it skips (default) or fails (IRONLB_E2E=require). Decided on a fake machine, so it runs anywhere.
import { describe, expect, test } from "vitest";
import {
  judgePrereqs,
  requirePrereqs,
  strictPrereqs,
  type PrereqProbe,
  type Prereqs,
} from "../support/e2e.js";
import type { TestenvProvided } from "../support/testenv.js";

interface FakeMachine {
  readonly root: boolean;
  readonly binaries: readonly string[];
  readonly controlPlane: TestenvProvided | undefined;
  readonly controlPlaneBinariesProblem?: string;
}

const fakeProbe = (machine: FakeMachine): PrereqProbe => ({
  isRoot: () => machine.root,
  hasBinary: (name) => machine.binaries.includes(name),
  controlPlane: () => machine.controlPlane,
  controlPlaneBinariesProblem: () => machine.controlPlaneBinariesProblem,
});

const up: TestenvProvided = {
  available: true,
  connection: {
    server: "https://127.0.0.1:1",
    kubeconfigPath: "/k",
    caCertPath: "/ca",
    caPem: "",
    adminToken: "a",
    unprivilegedToken: "u",
    adminCertPath: "/c",
    adminKeyPath: "/k",
  },
};
const full: FakeMachine = { root: true, binaries: ["ip", "bird", "vtysh"], controlPlane: up };

const cases: {
  description: string;
  prereqs: Prereqs;
  machine: FakeMachine;
  missing: RegExp[];
}[] = [
  { description: "nothing asked", prereqs: {}, machine: { ...full, root: false, binaries: [] }, missing: [] },
  {
    description: "everything present",
    prereqs: { root: true, binaries: ["ip", "bird"], controlPlane: true },
    machine: full,
    missing: [],
  },
  {
    description: "not root",
    prereqs: { root: true },
    machine: { ...full, root: false },
    missing: [/^root /],
  },
  {
    description: "a known binary names its Debian package",
    prereqs: { binaries: ["ip", "birdc"] },
    machine: full,
    missing: [/program birdc \(apt-get install bird2/],
  },
  {
    description: "an unknown binary defaults to its own name",
    prereqs: { binaries: ["gobgp"] },
    machine: full,
    missing: [/program gobgp \(apt-get install gobgp/],
  },
  {
    description: "a custom install hint is used verbatim",
    prereqs: { binaries: [{ name: "kind", install: "go install sigs.k8s.io/kind" }] },
    machine: full,
    missing: [/program kind \(go install sigs\.k8s\.io\/kind/],
  },
  {
    description: "the control plane is unavailable, with the setup's reason",
    prereqs: { controlPlane: true },
    machine: { ...full, controlPlane: { available: false, reason: "no Go toolchain" } },
    missing: [/test control plane: no Go toolchain/],
  },
  {
    description: "the control plane is not provided outside the integration project",
    prereqs: { controlPlane: true },
    machine: { ...full, controlPlane: undefined },
    missing: [/global setup/],
  },
  {
    description: "control plane binaries present",
    prereqs: { controlPlaneBinaries: true },
    machine: full,
    missing: [],
  },
  {
    description: "control plane binaries not built yet",
    prereqs: { controlPlaneBinaries: true },
    machine: { ...full, controlPlaneBinariesProblem: "not built yet in /cache" },
    missing: [/kube-apiserver and etcd: not built yet in \/cache \(\.\/scripts\/setup\.sh/],
  },
  {
    description: "several missing are all reported, in order",
    prereqs: { root: true, binaries: ["ip", "exabgp", "nft"] },
    machine: { ...full, root: false, binaries: ["ip"] },
    missing: [/^root/, /exabgp/, /nft \(apt-get install nftables/],
  },
];

describe("judgePrereqs", () => {
  test.each(cases)("$description", ({ prereqs, machine, missing }) => {
    const relaxed = judgePrereqs(prereqs, fakeProbe(machine), false);
    expect(relaxed.missing).toHaveLength(missing.length);
    missing.forEach((pattern, i) => {
      expect(relaxed.missing[i]).toMatch(pattern);
    });
    expect(relaxed.skip).toBe(missing.length > 0);
    expect(relaxed.reason === "").toBe(missing.length === 0);

    const strict = judgePrereqs(prereqs, fakeProbe(machine), true);
    expect(strict.missing).toEqual(relaxed.missing);
    expect(strict.skip).toBe(false);
  });
});

describe("requirePrereqs", () => {
  const lacking = fakeProbe({ ...full, root: false });

  test("skips with the reason by default", () => {
    const verdict = requirePrereqs({ root: true }, lacking, {});
    expect(verdict.skip).toBe(true);
    expect(verdict.reason).toMatch(/^missing root/);
  });

  test("throws naming what is missing under IRONLB_E2E=require", () => {
    expect(() => requirePrereqs({ root: true }, lacking, { IRONLB_E2E: "require" })).toThrow(
      /IRONLB_E2E=require .*missing root/,
    );
  });

  test("neither skips nor throws when everything is present, in either mode", () => {
    for (const env of [{}, { IRONLB_E2E: "require" }]) {
      expect(requirePrereqs({ root: true }, fakeProbe(full), env)).toEqual({
        missing: [],
        skip: false,
        reason: "",
      });
    }
  });

  test("strict mode is exactly IRONLB_E2E=require", () => {
    expect(strictPrereqs({ IRONLB_E2E: "require" })).toBe(true);
    expect(strictPrereqs({ IRONLB_E2E: "1" })).toBe(false);
    expect(strictPrereqs({})).toBe(false);
  });
});
