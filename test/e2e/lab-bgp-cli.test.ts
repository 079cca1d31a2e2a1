// `ironlb lab up --mode bgp | status | down` as a user runs them, checked from outside IronLB: the
// router namespace's kernel FIB and BIRD's own `birdc show route`, curl from the client behind
// the router, and /proc for processes left behind. Its own prefix and state directory, so a
// user's default lab on the same machine is never touched.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ironlbCommand, PACKAGE_ROOT } from "../../src/lab/entries.js";
import { Lab } from "../../src/lab/lab.js";
import { deleteNamespacesSync, namespacesWithPrefix } from "../../src/lab/netns.js";
import { recordAlive } from "../../src/lab/processes.js";
import { readState } from "../../src/lab/state.js";
import { onExitCleanup } from "../../src/testenv/exitCleanup.js";
import { requirePrereqs } from "../support/e2e.js";
import { labPrereqs } from "./labSupport.js";

const prefix = `ilb-cb${String(process.pid % 100_000)}-`;
const stateDir = mkdtempSync(join(tmpdir(), "ironlb-lab-bgp-cli-"));
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
function fibNextHops(prefixText: string): string[] {
  const family = prefixText.includes(":") ? "-6" : "-4";
  const routes = JSON.parse(
    sh(["ip", "-n", `${prefix}router`, family, "-j", "route", "show", prefixText]),
  ) as {
    gateway?: string;
    nexthops?: { gateway?: string }[];
  }[];
  return routes.flatMap((r) => (r.nexthops ?? [r]).map((h) => h.gateway ?? "")).sort();
}

/** PIDs of processes whose command line mentions the lab's state directory (bird, speakers, …). */
function processesOfTheLab(): number[] {
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

function sweep(): void {
  for (const record of readState(stateDir)?.processes ?? []) {
    if (recordAlive(record)) process.kill(record.pid, "SIGKILL");
  }
  deleteNamespacesSync(namespacesWithPrefix(prefix));
}

const lab = labPrereqs();
const bird = lab.skip ? lab : requirePrereqs({ binaries: ["bird", "birdc"] });
const skipReason = [lab.reason, bird.reason].filter((r) => r !== "").join("; ");
const NAME = "ironlb lab up --mode bgp | status | down (separate invocations)";

describe.skipIf(lab.skip || bird.skip)(skipReason === "" ? NAME : `${NAME} (skipped: ${skipReason})`, () => {
  const unregister = onExitCleanup(sweep);
  afterAll(async () => {
    await Lab.attach(stateDir)?.stop();
    sweep();
    unregister();
  });

  it("refuses an unknown mode", () => {
    const refused = ironlb(["lab", "up", "--mode", "vrrp", "--state-dir", stateDir, "--prefix", prefix]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain("--mode must be l2 or bgp, got vrrp");
    expect(namespacesWithPrefix(prefix)).toEqual([]);
  });

  it("up: BIRD has an ECMP route over the 3 nodes per VIP, the client reaches it; status; down leaves nothing", () => {
    const started = Date.now();
    const up = ironlb(["lab", "up", "--mode", "bgp", "--state-dir", stateDir, "--prefix", prefix]);
    expect(up.stderr).toBe("");
    expect(up.status).toBe(0);
    process.stdout.write(`lab up --mode bgp: ${String(Date.now() - started)} ms\n`);
    expect(up.stdout).toMatch(/lab up in [\d.]+ s: mode bgp, 3 nodes/);
    expect(up.stdout).toContain(`ip netns exec ${prefix}client curl http://198.51.100.10/`);
    expect(up.stdout).toContain(`ip netns exec ${prefix}client curl 'http://[2001:db8:100::10]/'`);

    // The router's kernel: one route per VIP with a next hop per node (BIRD merged the paths).
    expect(fibNextHops("198.51.100.10/32")).toEqual(NODES);
    expect(fibNextHops("2001:db8:100::10/128")).toEqual(NODES_V6);
    // BIRD's own RIB: a path from every node for each VIP, learnt over BGP.
    const birdRoutes = sh(["birdc", "-s", join(stateDir, "router", "bird.ctl"), "show", "route"]);
    for (const hop of [...NODES, ...NODES_V6]) expect(birdRoutes).toContain(`via ${hop} on ilb-eth0`);
    expect(birdRoutes.match(/\[AS64512i\]/g)).toHaveLength(6);

    // The client behind the router: every flow lands on some node's backend; flows spread.
    const answers = new Set<string>();
    for (let i = 0; i < 12; i++) {
      answers.add(
        sh([
          "ip",
          "netns",
          "exec",
          `${prefix}client`,
          "curl",
          "-sS",
          "--max-time",
          "5",
          "http://198.51.100.10/",
        ]).trim(),
      );
    }
    for (const answer of answers) expect(["ilb-node1", "ilb-node2", "ilb-node3"]).toContain(answer);
    expect(answers.size).toBeGreaterThan(1);
    const v6 = sh([
      "ip",
      "netns",
      "exec",
      `${prefix}client`,
      "curl",
      "-sS",
      "-g",
      "--max-time",
      "5",
      "http://[2001:db8:100::10]/",
    ]).trim();
    expect(["ilb-node1", "ilb-node2", "ilb-node3"]).toContain(v6);

    const status = ironlb(["lab", "status", "--state-dir", stateDir]);
    expect(status.stderr).toBe("");
    expect(status.status).toBe(0);
    expect(status.stdout).toContain("mode bgp, 3 nodes");
    expect(status.stdout).toMatch(/router +pid \d+ +\S+router +running/);
    expect(status.stdout).toContain(
      `router ${prefix}router (BIRD, AS 64500): 6 of 6 BGP sessions Established`,
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
        "router",
        "control-plane",
        "controller",
        ...[1, 2, 3].flatMap((n) => [`agent-ilb-node${String(n)}`, `speaker-ilb-node${String(n)}`]),
      ].sort(),
    );
    expect(processesOfTheLab().length).toBeGreaterThan(0);

    const down = ironlb(["lab", "down", "--state-dir", stateDir]);
    expect(down.status).toBe(0);
    expect(down.stdout).toMatch(/lab down in [\d.]+ s: processes stopped, 7 namespaces removed/);
    expect(records.filter(recordAlive)).toEqual([]);
    expect(processesOfTheLab()).toEqual([]);
    expect(namespacesWithPrefix(prefix)).toEqual([]);
  });
});
