// `ironlb lab up --mode bgp [--router frr] | status | down` as a user runs them, checked from
// outside IronLB: the router namespace's kernel FIB and the daemon's own RIB (birdc, vtysh json),
// curl from the client behind the router, and /proc for processes left behind. BIRD and FRR in
// turn, each under its own prefix and state directory, so a user's default lab is never touched.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ironlbCommand, PACKAGE_ROOT } from "../../src/lab/entries.js";
import { Lab } from "../../src/lab/lab.js";
import { deleteNamespacesSync, namespacesWithPrefix } from "../../src/lab/netns.js";
import { recordAlive } from "../../src/lab/processes.js";
import { readState } from "../../src/lab/state.js";
import { onExitCleanup } from "../../src/testenv/exitCleanup.js";
import { bgpPrereqs } from "./bgpSupport.js";
import { labPrereqs } from "./labSupport.js";

const NODES = ["192.0.2.11", "192.0.2.12", "192.0.2.13"];
const NODES_V6 = ["2001:db8:1::11", "2001:db8:1::12", "2001:db8:1::13"];

function ironlb(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const [command = "", ...rest] = ironlbCommand();
  const result = spawnSync(command, [...rest, ...args], {
    cwd: PACKAGE_ROOT,
    encoding: "utf8",
    timeout: 600_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function sh(argv: readonly string[]): string {
  const result = spawnSync(argv[0] ?? "", argv.slice(1), { encoding: "utf8", timeout: 20_000 });
  if (result.status !== 0) throw new Error(`${argv.join(" ")}: ${result.stderr}`);
  return result.stdout;
}

/** Next hops of the router namespace's kernel route to `prefix`, sorted. */
function fibNextHops(prefix: string, prefixText: string): string[] {
  const family = prefixText.includes(":") ? "-6" : "-4";
  const routes = JSON.parse(
    sh(["ip", "-n", `${prefix}router`, family, "-j", "route", "show", prefixText]),
  ) as {
    gateway?: string;
    nexthops?: { gateway?: string }[];
  }[];
  return routes.flatMap((r) => (r.nexthops ?? [r]).map((h) => h.gateway ?? "")).sort();
}

/** Next hops of the daemon's BGP paths for each VIP, from the daemon itself. */
function daemonNextHops(kind: "bird" | "frr", stateDir: string): Record<string, string[]> {
  if (kind === "bird") {
    const text = sh(["birdc", "-s", join(stateDir, "router", "bird.ctl"), "show", "route", "all"]);
    const out: Record<string, string[]> = {};
    let current = "";
    for (const line of text.split("\n")) {
      const head = /^(\S+\/\d+)\s/.exec(line);
      if (head !== null) current = head[1] ?? "";
      const hop = /^\tBGP\.next_hop: (\S+)/.exec(line);
      if (hop !== null) (out[current] ??= []).push(hop[1] ?? "");
    }
    for (const list of Object.values(out)) list.sort();
    return out;
  }
  const out: Record<string, string[]> = {};
  for (const family of ["ipv4", "ipv6"]) {
    const json = sh([
      "vtysh",
      "--vty_socket",
      join(stateDir, "router"),
      "-d",
      "bgpd",
      "-c",
      `show bgp ${family} unicast json`,
    ]);
    const routes =
      (JSON.parse(json) as { routes?: Record<string, { nexthops?: { ip?: string; scope?: string }[] }[]> })
        .routes ?? {};
    for (const [prefixText, paths] of Object.entries(routes)) {
      out[prefixText] = paths
        .flatMap((p) => (p.nexthops ?? []).filter((h) => h.scope !== "link-local").map((h) => h.ip ?? ""))
        .sort();
    }
  }
  return out;
}

/** PIDs of processes whose command line mentions the lab's state directory (bird, speakers, …). */
function processesOfTheLab(stateDir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(stateDir)) pids.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

function sweep(stateDir: string, prefix: string): void {
  for (const record of readState(stateDir)?.processes ?? []) {
    if (recordAlive(record)) process.kill(record.pid, "SIGKILL");
  }
  deleteNamespacesSync(namespacesWithPrefix(prefix));
}

/**
 * A prefix (`ilb-cb<pid><tag>-`) and a fresh state directory for the lab of one describe block:
 * after its tests (or at exit, if the run dies) the lab is stopped, swept and the directory removed.
 */
function labUnderTest(tag: string, stateDirPrefix: string): { prefix: string; stateDir: string } {
  const prefix = `ilb-cb${String(process.pid % 100_000)}${tag}-`;
  const stateDir = mkdtempSync(join(tmpdir(), stateDirPrefix));
  const unregister = onExitCleanup(() => {
    sweep(stateDir, prefix);
  });
  afterAll(async () => {
    await Lab.attach(stateDir)?.stop();
    sweep(stateDir, prefix);
    rmSync(stateDir, { recursive: true, force: true });
    unregister();
  });
  return { prefix, stateDir };
}

/** curl from the client namespace behind the router; -g: IPv6 URLs carry brackets, not globs. */
function curlFromClient(prefix: string, url: string): string {
  return sh(["ip", "netns", "exec", `${prefix}client`, "curl", "-sS", "-g", "--max-time", "5", url]).trim();
}

const lab = labPrereqs();
// BIRD and FRR (bgpSupport also asks for ExaBGP: scripts/setup.sh installs the three together).
const daemons = lab.skip ? lab : bgpPrereqs();
const skipReason = [lab.reason, daemons.reason].filter((r) => r !== "").join("; ");
const NAME = "ironlb lab up --mode bgp | status | down (separate invocations)";

describe.skipIf(lab.skip || daemons.skip)(
  skipReason === "" ? NAME : `${NAME} (skipped: ${skipReason})`,
  () => {
    const { prefix, stateDir } = labUnderTest("", "ironlb-lab-bgp-cli-");

    it("refuses an unknown mode, and --router without --mode bgp", () => {
      const refused = ironlb(["lab", "up", "--mode", "vrrp", "--state-dir", stateDir, "--prefix", prefix]);
      expect(refused.status).toBe(1);
      expect(refused.stderr).toContain("--mode must be l2 or bgp, got vrrp");
      expect(namespacesWithPrefix(prefix)).toEqual([]);
      const frrInL2 = ironlb(["lab", "up", "--router", "frr", "--state-dir", stateDir, "--prefix", prefix]);
      expect(frrInL2.status).toBe(1);
      expect(frrInL2.stderr).toContain("--router needs --mode bgp");
    });
  },
);

describe.each([
  { kind: "bird", tag: "b", name: "BIRD", processes: ["router"] },
  { kind: "frr", tag: "f", name: "FRR", processes: ["router-bgpd", "router-zebra"] },
] as const)("lab up --mode bgp --router $kind", ({ kind, tag, name, processes }) => {
  if (lab.skip || daemons.skip) return;
  const { prefix, stateDir } = labUnderTest(tag, `ironlb-lab-bgp-cli-${kind}-`);

  it("up: the router has an ECMP route over the 3 nodes per VIP, the client reaches it; status; down leaves nothing", () => {
    const started = Date.now();
    const up = ironlb([
      "lab",
      "up",
      "--mode",
      "bgp",
      "--router",
      kind,
      "--state-dir",
      stateDir,
      "--prefix",
      prefix,
    ]);
    expect(up.stderr).toBe("");
    expect(up.status).toBe(0);
    process.stdout.write(`lab up --mode bgp --router ${kind}: ${String(Date.now() - started)} ms\n`);
    expect(up.stdout).toMatch(/lab up in [\d.]+ s: mode bgp, 3 nodes/);
    expect(up.stdout).toContain(`ip netns exec ${prefix}client curl http://198.51.100.10/`);
    expect(up.stdout).toContain(`ip netns exec ${prefix}client curl 'http://[2001:db8:100::10]/'`);

    // The router's kernel: one route per VIP with a next hop per node (the daemon merged the paths).
    expect(fibNextHops(prefix, "198.51.100.10/32")).toEqual(NODES);
    expect(fibNextHops(prefix, "2001:db8:100::10/128")).toEqual(NODES_V6);
    // The daemon's own RIB: a path from every node for each VIP, and nothing else.
    expect(daemonNextHops(kind, stateDir)).toEqual({
      "198.51.100.10/32": NODES,
      "2001:db8:100::10/128": NODES_V6,
    });

    // The client behind the router: every flow lands on some node's backend; flows spread.
    const answers = new Set<string>();
    for (let i = 0; i < 12; i++) {
      answers.add(curlFromClient(prefix, "http://198.51.100.10/"));
    }
    for (const answer of answers) expect(["ilb-node1", "ilb-node2", "ilb-node3"]).toContain(answer);
    expect(answers.size).toBeGreaterThan(1);
    const v6 = curlFromClient(prefix, "http://[2001:db8:100::10]/");
    expect(["ilb-node1", "ilb-node2", "ilb-node3"]).toContain(v6);

    const status = ironlb(["lab", "status", "--state-dir", stateDir]);
    expect(status.stderr).toBe("");
    expect(status.status).toBe(0);
    expect(status.stdout).toContain("mode bgp, 3 nodes");
    for (const daemon of processes)
      expect(status.stdout).toMatch(new RegExp(`${daemon} +pid \\d+ +\\S+router +running`));
    expect(status.stdout).toContain(
      `router ${prefix}router (${name}, AS 64500): 6 of 6 BGP sessions Established`,
    );
    expect(status.stdout).toMatch(
      /198\.51\.100\.10\/32 +via 192\.0\.2\.11, 192\.0\.2\.12, 192\.0\.2\.13; kernel: ECMP over 3/,
    );
    expect(status.stdout).toMatch(
      /2001:db8:100::10\/128 +via 2001:db8:1::11, 2001:db8:1::12, 2001:db8:1::13; kernel: ECMP over 3/,
    );
    expect(status.stdout).toContain("announced by ilb-node1 (to router-v4, router-v6) and ilb-node2");

    const records = readState(stateDir)?.processes ?? [];
    expect(records.map((r) => r.name).sort()).toEqual(
      [
        ...processes,
        "control-plane",
        "controller",
        ...[1, 2, 3].flatMap((n) => [`agent-ilb-node${String(n)}`, `speaker-ilb-node${String(n)}`]),
      ].sort(),
    );
    expect(processesOfTheLab(stateDir).length).toBeGreaterThan(0);

    const down = ironlb(["lab", "down", "--state-dir", stateDir]);
    expect(down.status).toBe(0);
    expect(down.stdout).toMatch(/lab down in [\d.]+ s: processes stopped, 7 namespaces removed/);
    expect(records.filter(recordAlive)).toEqual([]);
    expect(processesOfTheLab(stateDir)).toEqual([]);
    expect(namespacesWithPrefix(prefix)).toEqual([]);
  });
});
