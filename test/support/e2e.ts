// Prerequisites of integration and end-to-end tests (root, system binaries, the test control
// plane). Missing ones skip the tests with the reason, except under IRONLB_E2E=require (CI), where
// the test file fails with a message naming what is missing and how to install it.
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { describe, inject } from "vitest";
import { locateBinariesSync } from "../../src/testenv/binaries.js";
import type { TestenvProvided } from "./testenv.js";

export interface BinaryPrereq {
  readonly name: string;
  /** How to get it, e.g. "apt-get install bird2". */
  readonly install: string;
}

export interface Prereqs {
  /** The tests create network namespaces, links, raw sockets: they need uid 0. */
  readonly root?: boolean;
  /** Programs looked up on PATH (plus /usr/sbin and /sbin); a bare name gets a default install hint. */
  readonly binaries?: readonly (string | BinaryPrereq)[];
  /** The shared kube-apiserver + etcd that the integration project's global setup starts. */
  readonly controlPlane?: boolean;
  /** kube-apiserver + etcd binaries already there, for tests that start their own (the lab). */
  readonly controlPlaneBinaries?: boolean;
}

/** What the checks observe; injectable so the decision logic is testable without the machine. */
export interface PrereqProbe {
  isRoot(): boolean;
  hasBinary(name: string): boolean;
  controlPlane(): TestenvProvided | undefined;
  /** Why the control plane binaries cannot be found, or undefined when they can. */
  controlPlaneBinariesProblem(): string | undefined;
}

export interface PrereqVerdict {
  /** One human sentence per missing prerequisite, with how to get it. */
  readonly missing: readonly string[];
  /** True when tests should be skipped (something is missing and the mode is not strict). */
  readonly skip: boolean;
  /** Empty when nothing is missing. */
  readonly reason: string;
}

export class PrereqMissingError extends Error {
  override readonly name = "PrereqMissingError";
  readonly code = "E2E_PREREQ_MISSING";
}

/** Debian packages of the programs the lab and interop tests use, for install hints. */
const debianPackageOf: Readonly<Record<string, string>> = {
  ip: "iproute2",
  bridge: "iproute2",
  tc: "iproute2",
  nft: "nftables",
  bird: "bird2",
  birdc: "bird2",
  vtysh: "frr",
  bgpd: "frr",
  bfdd: "frr",
  exabgp: "exabgp",
  curl: "curl",
  arping: "iputils-arping",
  ping: "iputils-ping",
  tcpdump: "tcpdump",
  openssl: "openssl",
};

const extraSearchDirs = ["/usr/local/sbin", "/usr/sbin", "/sbin"];

export const machineProbe: PrereqProbe = {
  isRoot: () => process.getuid?.() === 0,
  hasBinary: (name) => {
    const dirs = (process.env["PATH"] ?? "").split(delimiter).concat(extraSearchDirs);
    return dirs.some((dir) => {
      if (dir === "") return false;
      try {
        accessSync(join(dir, name), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
  },
  controlPlane: () => {
    try {
      return inject("ironlbTestenv");
    } catch {
      return undefined;
    }
  },
  controlPlaneBinariesProblem: () => {
    try {
      locateBinariesSync();
      return undefined;
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  },
};

/** True when IRONLB_E2E=require: a missing prerequisite is a failure, not a skip. */
export const strictPrereqs = (env: NodeJS.ProcessEnv = process.env): boolean =>
  env["IRONLB_E2E"] === "require";

function missingPrereqs(prereqs: Prereqs, probe: PrereqProbe): string[] {
  const missing: string[] = [];
  if (prereqs.root === true && !probe.isRoot()) missing.push("root (run the tests as uid 0, e.g. with sudo)");
  for (const binary of prereqs.binaries ?? []) {
    const { name, install } =
      typeof binary === "string"
        ? { name: binary, install: `apt-get install ${debianPackageOf[binary] ?? binary}` }
        : binary;
    if (!probe.hasBinary(name)) missing.push(`program ${name} (${install}, or ./scripts/setup.sh as root)`);
  }
  if (prereqs.controlPlane === true) {
    const provided = probe.controlPlane();
    if (provided === undefined) {
      missing.push("the test control plane (only the integration project's global setup starts it)");
    } else if (!provided.available) {
      missing.push(`the test control plane: ${provided.reason}`);
    }
  }
  if (prereqs.controlPlaneBinaries === true) {
    const problem = probe.controlPlaneBinariesProblem();
    if (problem !== undefined)
      missing.push(`kube-apiserver and etcd: ${problem} (./scripts/setup.sh builds them)`);
  }
  return missing;
}

/** The decision alone: what is missing and whether to skip, given a mode. */
export function judgePrereqs(prereqs: Prereqs, probe: PrereqProbe, strict: boolean): PrereqVerdict {
  const missing = missingPrereqs(prereqs, probe);
  const reason = missing.length === 0 ? "" : `missing ${missing.join("; ")}`;
  return { missing, skip: missing.length > 0 && !strict, reason };
}

/**
 * Checks `prereqs` on this machine. Nothing missing → `{skip: false}`. Something missing →
 * `{skip: true, reason}`, or, under IRONLB_E2E=require, a PrereqMissingError thrown at once (call
 * it while the test file is collected, so the whole file fails with the message).
 */
export function requirePrereqs(
  prereqs: Prereqs,
  probe: PrereqProbe = machineProbe,
  env: NodeJS.ProcessEnv = process.env,
): PrereqVerdict {
  const verdict = judgePrereqs(prereqs, probe, strictPrereqs(env));
  if (verdict.missing.length > 0 && !verdict.skip) {
    throw new PrereqMissingError(`IRONLB_E2E=require and the tests' prerequisites are ${verdict.reason}`);
  }
  return verdict;
}

/**
 * `describe` that runs only when `prereqs` hold; otherwise its tests are skipped and the suite's
 * name carries the reason (or, under IRONLB_E2E=require, the file fails). Usage:
 *
 *   describeWithPrereqs("layer 2 failover", { root: true, binaries: ["ip", "arping"] }, () => { ... });
 */
export function describeWithPrereqs(name: string, prereqs: Prereqs, body: () => void): void {
  const verdict = requirePrereqs(prereqs);
  describe.skipIf(verdict.skip)(verdict.skip ? `${name} (skipped: ${verdict.reason})` : name, body);
}
